"""The Overview's stored snapshot: served while out of date, recounted by the worker."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.fields import field_registry
from contacts.models import Attribute, Contact
from overview import charts, snapshots
from overview.models import OverviewSnapshot
from overview.selectors import count_snapshot
from overview.tasks import refresh_overview_snapshot
from tests.factories import AttributeFactory, make_contact
from tests.overview.conftest import make_stale, refresh_stored_snapshot

pytestmark = pytest.mark.django_db

URL = "/overview/"


def counted_at_note(page: str) -> str:
    match = re.search(r'data-testid="counted-at">(.*?)</p>', page, re.S)
    assert match
    return match.group(1)


def test_the_first_view_counts_and_stores_the_snapshot(book, viewer_client, task_queue):
    assert not OverviewSnapshot.objects.exists()
    with task_queue.commits():
        response = viewer_client.get(URL)
    assert response.context["totals"].contacts.count == Contact.objects.count() == 7
    row = OverviewSnapshot.objects.get()
    assert row.numbers["totals"]["contacts"]["count"] == 7
    assert row.refresh_requested_at is None
    assert task_queue.refreshes() == []
    assert "again every 5 minutes" in counted_at_note(response.content.decode())


def test_a_stored_snapshot_is_served_without_counting_or_drawing(
    book, viewer_client, task_queue, monkeypatch
):
    viewer_client.get(URL)
    make_contact(name="New")

    def no_drawing(*args, **kwargs):
        raise AssertionError("the request drew a chart of the snapshot")

    monkeypatch.setattr(charts, "draw_per_day", no_drawing)
    monkeypatch.setattr(charts, "draw_ranked", no_drawing)
    with task_queue.commits():
        page = viewer_client.get(URL)
    assert page.context["totals"].contacts.count == 7  # counted before "New"
    assert task_queue.refreshes() == []
    assert 'id="per-day-chart"><svg' in page.content.decode()


def test_a_stale_snapshot_is_served_and_one_recount_queued_when_asked_twice(
    book, viewer_client, editor_client, task_queue
):
    viewer_client.get(URL)
    make_contact(name="New", whatsapp_opted=True)
    make_stale()
    with task_queue.commits():
        first = viewer_client.get(URL)
        second = editor_client.get(URL)
    for response in (first, second):
        assert response.context["totals"].contacts.count == 7
        note = counted_at_note(response.content.decode())
        assert "a recount is under way" in note and "again every" not in note
    queued = task_queue.refreshes()
    assert len(queued) == 1
    assert OverviewSnapshot.objects.get().refresh_requested_at is not None

    # The worker runs it: the next request reads the new numbers and asks for nothing.
    requested_at = queued[0].args_kwargs["args"][0]
    assert refresh_overview_snapshot.call(requested_at)["status"] == "counted"
    with task_queue.commits():
        page = viewer_client.get(URL)
    totals = page.context["totals"]
    assert totals.contacts.count == Contact.objects.count() == 8
    assert totals.opted_in.count == Contact.objects.filter(whatsapp_opted=True).count() == 3
    assert "again every 5 minutes" in counted_at_note(page.content.decode())
    assert len(task_queue.refreshes()) == 1
    assert OverviewSnapshot.objects.get().refresh_requested_at is None


def test_a_recount_queued_twice_counts_once(book, task_queue):
    refresh_stored_snapshot()
    make_stale()
    requested = timezone.now()
    assert refresh_overview_snapshot.call(requested.isoformat())["status"] == "counted"
    counted_at = OverviewSnapshot.objects.get().counted_at
    # A second recount asked for before that one was stored finds nothing to do.
    again = refresh_overview_snapshot.call(requested.isoformat())
    assert again["status"] == "already counted"
    assert OverviewSnapshot.objects.get().counted_at == counted_at


def test_a_recount_asked_for_long_ago_is_asked_for_again(book, viewer_client, task_queue):
    """When no worker ran the first recount, a request after REFRESH_RETRY queues another."""
    viewer_client.get(URL)
    make_stale()
    with task_queue.commits():
        viewer_client.get(URL)
    OverviewSnapshot.objects.update(
        refresh_requested_at=timezone.now() - timedelta(seconds=snapshots.REFRESH_RETRY - 5)
    )
    with task_queue.commits():
        viewer_client.get(URL)
    assert len(task_queue.refreshes()) == 1
    OverviewSnapshot.objects.update(
        refresh_requested_at=timezone.now() - timedelta(seconds=snapshots.REFRESH_RETRY + 1)
    )
    with task_queue.commits():
        viewer_client.get(URL)
    assert len(task_queue.refreshes()) == 2


def test_a_new_day_asks_for_a_recount(book, viewer_client, task_queue, monkeypatch):
    viewer_client.get(URL)
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    with task_queue.commits():
        page = viewer_client.get(URL)
    assert page.context["snapshot"].today == today  # served as stored
    assert "a recount is under way" in counted_at_note(page.content.decode())
    assert len(task_queue.refreshes()) == 1
    refresh_stored_snapshot()
    days = viewer_client.get(URL).context["snapshot"].days
    assert days[-1].day == tomorrow and days[-1].total == 0


def test_a_new_day_is_recounted_by_the_task(
    book, viewer_client, monkeypatch, django_capture_on_commit_callbacks
):
    """The same through the test settings' immediate backend: the task runs as it is queued."""
    viewer_client.get(URL)
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    with django_capture_on_commit_callbacks(execute=True):
        viewer_client.get(URL)
    assert viewer_client.get(URL).context["snapshot"].today == tomorrow


@pytest.mark.parametrize("change", ["renamed", "added", "removed"])
def test_a_changed_custom_field_asks_for_a_recount(book, viewer_client, task_queue, change):
    viewer_client.get(URL)
    if change == "renamed":
        Attribute.objects.filter(key="city").update(label="Town")
    elif change == "added":
        AttributeFactory(key="plan", label="Plan")
    else:
        Attribute.objects.filter(key="score").delete()
    with task_queue.commits():
        page = viewer_client.get(URL)
    assert "City" in [bar.label for bar in page.context["snapshot"].fields]  # as stored
    assert len(task_queue.refreshes()) == 1
    refresh_stored_snapshot()
    labels = {bar.label for bar in viewer_client.get(URL).context["snapshot"].fields}
    expected = set(Attribute.objects.values_list("label", flat=True))
    assert labels == expected


def test_a_snapshot_stored_in_another_format_is_counted_anew(book, viewer_client, task_queue):
    OverviewSnapshot.objects.create(numbers={"format": 0}, charts={}, counted_at=timezone.now())
    with task_queue.commits():
        page = viewer_client.get(URL)
    assert page.context["totals"].contacts.count == 7
    assert OverviewSnapshot.objects.get().numbers["format"] == snapshots.FORMAT
    assert task_queue.refreshes() == []


def test_the_task_stores_the_drawn_charts(book):
    result = refresh_overview_snapshot.call(timezone.now().isoformat())
    row = OverviewSnapshot.objects.get()
    assert result == {"status": "counted", "counted_at": row.counted_at.isoformat()}
    assert set(row.charts) == {"per_day", "tags", "fields"}
    for name, svg in row.charts.items():
        assert svg.startswith("<svg") and svg.endswith("</svg>"), name
        assert "<script" not in svg and "<style" not in svg, name
        assert 'aria-hidden="true"' in svg, name
    assert row.charts["per_day"].count("<pattern ") == 5
    assert "/?f=tags%3Aany%3AVIP" in row.charts["tags"]
    assert "/?f=city%3Aset" in row.charts["fields"]


def test_a_book_without_tags_or_fields_stores_no_chart_for_them(db):
    make_contact(name="Plain")
    stored = refresh_stored_snapshot()
    assert stored.charts["tags"] == stored.charts["fields"] == ""
    assert stored.charts["per_day"].startswith("<svg")


def test_the_snapshot_reads_back_from_json_as_counted(book):
    snapshot = count_snapshot(field_registry())
    data = snapshots.snapshot_to_json(snapshot)
    assert snapshots.snapshot_from_json(data, snapshot.counted_at) == snapshot
    row = OverviewSnapshot.objects.create(
        numbers=data, charts=snapshots.snapshot_draw(snapshot), counted_at=snapshot.counted_at
    )
    row.refresh_from_db()  # through the database's JSON
    stored = snapshots.snapshot_read()
    assert stored is not None and stored.snapshot == snapshot


def test_a_snapshot_from_an_earlier_day_says_which_day(book, viewer_client, task_queue):
    viewer_client.get(URL)
    make_stale(seconds=24 * 3600)
    with task_queue.commits():
        note = counted_at_note(viewer_client.get(URL).content.decode())
    counted = timezone.localtime(OverviewSnapshot.objects.get().counted_at)
    assert f"Counted at {counted:%H:%M} on {counted.day} {counted:%b %Y}; a recount" in note

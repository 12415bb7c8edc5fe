"""Bulk actions past CONTACTHUB_BULK_INLINE_LIMIT contacts run as a background task."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from contacts import services
from contacts.models import Activity, BulkAction, Contact, FieldType
from contacts.services import Actor
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

BULK = reverse("contacts:list-bulk")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def small_inline_limit(settings):
    settings.CONTACTHUB_BULK_INLINE_LIMIT = 3


def tag_names(contact: Contact) -> set[str]:
    return {t.name for t in contact.tags.all()}


def test_past_the_limit_the_action_is_queued_and_its_page_shows_it_done(
    editor_client, editor, django_capture_on_commit_callbacks
):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    pune = [make_contact(name=f"P{i}", city="Pune") for i in range(5)]
    other = make_contact(name="M", city="Mumbai")
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = editor_client.post(
            BULK,
            {"action": "tags_add", "f": "city:eq:pune", "all": "on", "tags": "Pune list"},
            **HTMX,
        )
    assert len(queued) == 1  # the task, run by the test settings' immediate backend
    job = BulkAction.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("contacts:bulk-status", args=[job.pk])
    assert (job.kind, job.status, job.total, job.done, job.changed) == (
        "tags_add",
        "completed",
        5,
        5,
        5,
    )
    assert services.bulk_action_contact_ids(job, start=0, count=10) == sorted(c.pk for c in pune)
    assert all(tag_names(c) == {"Pune list"} for c in pune) and tag_names(other) == set()
    entry = Activity.objects.filter(contact=pune[0]).latest("id")
    assert entry.changes == {"fields": {}, "tags_added": ["Pune list"]}
    assert entry.actor_user == editor and entry.source == "web"

    page = editor_client.get(response["HX-Redirect"])
    html = " ".join(page.content.decode().split())
    assert page.status_code == 200
    assert "5 of 5 contacts worked through · 5 gained a tag" in html
    assert 'href="/?f=city%3Aeq%3Apune"' in html  # back to the same list
    assert "hx-trigger" not in html  # finished: no more polling


def test_at_or_under_the_limit_it_runs_in_the_request(editor_client):
    contacts = [make_contact(name=f"C{i}") for i in range(3)]
    response = editor_client.post(BULK, {"action": "tags_add", "all": "on", "tags": "VIP"}, **HTMX)
    assert response["HX-Redirect"] == reverse("contacts:list")
    assert not BulkAction.objects.exists()
    assert all(tag_names(c) == {"VIP"} for c in contacts)


def test_a_bad_tag_is_reported_in_the_dialog_and_nothing_is_queued(editor_client):
    for i in range(5):
        make_contact(name=f"C{i}")
    response = editor_client.post(
        BULK, {"action": "tags_add", "all": "on", "tags": "x" * 300}, **HTMX
    )
    assert response.status_code == 200
    assert "Tags" in response.content.decode()
    assert not BulkAction.objects.exists()


def test_background_delete_needs_a_manager_and_removes_exactly_the_confirmed_contacts(
    editor_client, manager_client, django_capture_on_commit_callbacks
):
    doomed = [make_contact(name=f"Old {i}") for i in range(4)]
    keep = make_contact(name="Keep")
    form = {"action": "delete", "ids": [c.pk for c in doomed]}
    assert editor_client.post(BULK, form, **HTMX).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(BULK, form, **HTMX)
    job = BulkAction.objects.get()
    assert (job.status, job.changed) == ("completed", 4)
    assert list(Contact.objects.all()) == [keep]
    assert editor_client.get(response["HX-Redirect"]).status_code == 403  # not theirs to see
    assert manager_client.get(response["HX-Redirect"]).status_code == 200


def start(kind: str, contacts, names=("VIP",)) -> BulkAction:
    ids = Contact.objects.filter(pk__in=[c.pk for c in contacts])
    return services.bulk_action_start(actor=Actor.system(), kind=kind, contacts=ids, names=names)


def test_chunks_commit_progress_and_a_stopping_worker_hands_the_action_back(editor):
    contacts = [make_contact(name=f"C{i}") for i in range(7)]
    job = start("tags_add", contacts)
    answers = iter([False, True])
    job = services.bulk_action_run(
        action_id=job.pk, chunk_size=2, should_stop=lambda: next(answers)
    )
    assert (job.status, job.done, job.changed, job.attempts) == ("queued", 4, 4, 1)
    assert sum(tag_names(c) == {"VIP"} for c in contacts) == 4

    job = services.bulk_action_run(action_id=job.pk, chunk_size=2)
    assert (job.status, job.done, job.changed, job.attempts) == ("completed", 7, 7, 2)
    assert all(tag_names(c) == {"VIP"} for c in contacts)
    assert Activity.objects.filter(changes__tags_added=["VIP"]).count() == 7  # once each


def test_a_killed_run_is_noticed_and_resumed_without_doing_a_chunk_twice(
    monkeypatch, editor_client, settings, django_capture_on_commit_callbacks
):
    contacts = [make_contact(name=f"C{i}", tags=["VIP"]) for i in range(6)]
    job = start("tags_remove", contacts)
    real = services.contacts_tags_remove_bulk
    calls = {"n": 0}

    def dying(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # not an Exception: nothing marks it failed
        return real(**kwargs)

    monkeypatch.setattr(services.bulk, "contacts_tags_remove_bulk", dying)
    with pytest.raises(SystemExit):
        services.bulk_action_run(action_id=job.pk, chunk_size=3)
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("running", 3, 3)
    monkeypatch.setattr(services.bulk, "contacts_tags_remove_bulk", real)

    settings.BULKUPLOAD_STALE_SECONDS = 60
    page = reverse("contacts:bulk-status", args=[job.pk])
    assert "3 of 6 contacts worked through" in editor_client.get(page).content.decode()
    BulkAction.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert 'data-testid="job-stalled"' in editor_client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_jobs", stdout=StringIO())  # notices the silent worker, queues it
    job.refresh_from_db()
    assert (job.status, job.done, job.changed, job.attempts) == ("completed", 6, 6, 2)
    assert all(tag_names(c) == set() for c in contacts)
    assert Activity.objects.filter(changes__tags_removed=["VIP"]).count() == 6


def test_an_error_fails_the_action_visibly_keeping_what_was_done(monkeypatch, editor_client):
    contacts = [make_contact(name=f"C{i}") for i in range(5)]
    job = start("tags_add", contacts)
    real = services.contacts_tags_add_bulk
    calls = {"n": 0}

    def broken(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services.bulk, "contacts_tags_add_bulk", broken)
    with pytest.raises(RuntimeError):
        services.bulk_action_run(action_id=job.pk, chunk_size=2)
    job.refresh_from_db()
    assert (job.status, job.done) == ("failed", 2)
    page = editor_client.get(reverse("contacts:bulk-status", args=[job.pk]))
    html = " ".join(page.content.decode().split())
    assert "The action stopped: an unexpected error" in html
    assert "The 2 contacts worked through before that keep their changes." in html


def test_status_page_queries_do_not_grow_with_the_action(
    editor_client, django_assert_max_num_queries
):
    for size in (4, 40):
        contacts = [make_contact(name=f"C{size}-{i}") for i in range(size)]
        job = start("tags_add", contacts)
        services.bulk_action_run(action_id=job.pk)
        with django_assert_max_num_queries(6):
            editor_client.get(reverse("contacts:bulk-status", args=[job.pk]), **HTMX)


def test_the_list_shows_running_bulk_actions_to_those_who_may_follow_them(
    editor_client, viewer_client
):
    contacts = [make_contact(name=f"C{i}") for i in range(5)]
    job = start("tags_add", contacts, names=["Autumn"])  # queued: no task runs in this test
    html = " ".join(editor_client.get(reverse("contacts:list")).content.decode().split())
    assert "Add tags (Autumn) on 5 contacts: 0% done." in html
    assert f'href="{reverse("contacts:bulk-status", args=[job.pk])}"' in html
    assert "bulk-running" not in viewer_client.get(reverse("contacts:list")).content.decode()
    services.bulk_action_run(action_id=job.pk)
    assert "bulk-running" not in editor_client.get(reverse("contacts:list")).content.decode()

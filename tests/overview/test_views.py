"""The Overview page: every number against the database, every link against the list."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from bulkupload.models import UploadJob
from contacts.models import Activity, Attribute, Contact, ContactTag, FieldType
from overview.selectors import NOT_RECORDED
from tests.factories import AttributeFactory, UserFactory, make_contact
from tests.overview.conftest import (
    Book,
    days_ago,
    fill_book,
    list_count,
    make_stale,
    page_links,
    refresh_stored_snapshot,
    upload_job,
)

pytestmark = pytest.mark.django_db

URL = "/overview/"
SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)
SVG_HREF_RE = re.compile(r'<a [^>]*\bhref="([^"]+)"')


def test_totals_match_the_database(book, viewer_client):
    response = viewer_client.get(URL)
    totals = response.context["totals"]
    assert totals.contacts.count == Contact.objects.count() == 7
    assert totals.new_7_days.count == Contact.objects.filter(created_at__gte=days_ago(7, 0)).count()
    assert totals.new_7_days.count == 3  # today, and twice 3 days ago
    assert (
        totals.new_30_days.count == Contact.objects.filter(created_at__gte=days_ago(30, 0)).count()
    )
    assert totals.new_30_days.count == 4
    opted_in = Contact.objects.filter(whatsapp_opted=True).count()
    assert totals.opted_in.count == opted_in == 2
    page = response.content.decode()
    assert 'data-testid="opted-in-share">29% of all contacts' in page  # 2 of 7
    shown = [count for href, count in page_links(page).counted if 'data-testid="total"' in page]
    assert shown[:4] == [7, 3, 4, 2]


def test_contacts_per_day_by_source_match_the_created_activity(book, viewer_client):
    response = viewer_client.get(URL)
    days = response.context["snapshot"].days
    assert len(days) == 90
    assert days[-1].day == timezone.localdate()
    assert days[0].day == timezone.localdate() - timedelta(days=89)
    sources = dict(
        Activity.objects.filter(kind=Activity.Kind.CREATED).values_list("contact_id", "source")
    )
    expected: Counter[tuple] = Counter()
    for contact in Contact.objects.filter(created_at__gte=days_ago(89, 0)):
        day = timezone.localdate(contact.created_at)
        expected[(day, sources.get(contact.pk, NOT_RECORDED))] += 1
    shown = Counter(
        {(day.day, source): n for day in days for source, n in day.by_source.items() if n}
    )
    assert shown == expected
    assert sum(expected.values()) == 6  # the 120-day-old contact is outside the window
    assert {source for _, source in expected} == {"web", "api", "upload", "admin", "system"}
    assert response.context["snapshot"].days_total == 6
    table = response.content.decode().split('data-testid="per-day-table"')[1]
    today = f"{timezone.localdate():%a %-d %b %Y}"
    assert re.search(rf"{today}</th>(<td[^>]*>\d+</td>)+\s*<td[^>]*><a [^>]*>1</a>", table)


def test_contacts_without_a_created_entry_are_counted_as_not_recorded(book, viewer_client):
    contact = make_contact(name="Loaded")
    Activity.objects.filter(contact=contact).delete()
    days = viewer_client.get(URL).context["snapshot"].days
    assert days[-1].by_source == {"web": 1, NOT_RECORDED: 1}


def test_top_tags_and_field_fill_match_the_database(book, viewer_client):
    whole = viewer_client.get(URL).context["snapshot"]
    per_tag = Counter(ContactTag.objects.values_list("tag__name", flat=True))
    # Ties: the older tag first ("VIP" was made before "Lead").
    assert [(bar.label, bar.count) for bar in whole.tags] == [("VIP", 2), ("Lead", 2), ("Old", 1)]
    assert {bar.label: bar.count for bar in whole.tags} == per_tag
    filled: Counter[str] = Counter()
    for traits in Contact.objects.values_list("traits", flat=True):
        filled.update(key for key, value in traits.items() if value not in (None, "", []))
    labels = dict(Attribute.objects.values_list("key", "label"))
    assert {bar.label: bar.count for bar in whole.fields} == {
        labels[key]: filled[key] for key in labels
    }
    # An empty list is no value: "Interests" counts one contact, not two.
    assert {bar.label: bar.count for bar in whole.fields} == {
        "City": 2,
        "Interests": 1,
        "Score": 1,
    }


def test_top_tags_stop_at_ten(db, viewer_client):
    for index in range(12):
        make_contact(tags=[f"Tag {n:02d}" for n in range(index + 1)])
    tags = viewer_client.get(URL).context["snapshot"].tags
    assert [bar.label for bar in tags] == [f"Tag {n:02d}" for n in range(10)]
    assert [bar.count for bar in tags] == list(range(12, 2, -1))


def test_last_uploads_match_the_jobs(db, editor_client):
    book = fill_book(Book(), scale=12)
    UploadJob.objects.create(original_name="draft.csv")  # still in the wizard: not shown
    uploads = editor_client.get(URL).context["uploads"]
    newest = UploadJob.objects.exclude(status="draft").order_by("-created_at", "-id")[:10]
    assert [u.job.pk for u in uploads] == [job.pk for job in newest]
    assert len(book.jobs) == 12
    for outcome in uploads:
        job = UploadJob.objects.get(pk=outcome.job.pk)
        assert (outcome.job.rows_created, outcome.job.rows_updated) == (
            job.rows_created,
            job.rows_updated,
        )
        touched = Activity.objects.filter(upload_job_id=job.pk).values("contact").distinct()
        assert outcome.touched == touched.count() == 3


@pytest.mark.parametrize("client_name", ["viewer_client", "manager_client"])
def test_every_link_opens_a_list_with_the_same_count(book, client_name, request):
    client = request.getfixturevalue(client_name)
    page = client.get(URL).content.decode()
    counted = page_links(page).counted
    assert len(counted) >= 4 + 5 + 3 + 3 + 1  # totals, days, tags, fields, upload
    for href, count in counted:
        response = client.get(html.unescape(href))
        assert response.status_code == 200, href
        assert list_count(response.content.decode()) == count, href


def test_every_chart_link_is_a_counted_link_of_its_table(book, editor_client):
    """The charts open the same lists as their tables, whose counts the test above checks."""
    page = editor_client.get(URL).content.decode()
    counted = {html.unescape(href) for href, _ in page_links(page).counted}
    report = re.compile(r"^/uploads/\d+/errors\.csv$")
    charts = SVG_RE.findall(page)
    assert len(charts) == 4  # per day, tags, fields, uploads
    for svg in charts:
        hrefs = {html.unescape(href) for href in SVG_HREF_RE.findall(svg)}
        assert hrefs, svg[:200]
        assert {h for h in hrefs if not report.match(h)} <= counted


def test_a_viewer_gets_no_link_to_the_error_report(book, viewer_client):
    page = viewer_client.get(URL).content.decode()
    assert "/errors/" not in page
    assert "open to people who may upload" in page


def test_charts_carry_no_script_no_style_element_and_nothing_remote(book, viewer_client):
    page = viewer_client.get(URL).content.decode()
    for svg in SVG_RE.findall(page):
        assert "<script" not in svg and "<style" not in svg
        assert "kozea.github.io" not in svg
        # Only namespaces and pygal's credit comment name a site; nothing is fetched.
        assert not re.search(r"""(href|src)=["'](https?:)?//|url\((https?:)?//""", svg)
        assert 'aria-hidden="true"' in svg
        assert all('tabindex="-1"' in link for link in re.findall(r"<a [^>]*>", svg))


def test_series_differ_by_pattern_and_each_segment_has_a_title(book, viewer_client):
    page = viewer_client.get(URL).content.decode()
    per_day = page.split('id="per-day-chart"')[1].split("</svg>")[0]
    assert per_day.count("<pattern ") == 5  # web is solid; the five others are patterned
    assert "<title>" + f"{timezone.localdate():%-d %b %Y}: 1 by Web of 1 that day" in per_day


def test_uploads_are_live(book, editor_client):
    editor_client.get(URL)
    job = upload_job(book.jobs[0].created_by, "later.csv", rows_created=5)
    uploads = editor_client.get(URL).context["uploads"]
    assert uploads[0].job.pk == job.pk


@pytest.mark.parametrize("stale", [False, True])
def test_queries_do_not_grow_with_contacts_tags_and_uploads(
    db, viewer_client, django_assert_max_num_queries, task_queue, stale
):
    """A stored snapshot is read (one query); an out-of-date one adds the recount request
    (one UPDATE) and, for the request that made it, the task queued (one INSERT)."""
    AttributeFactory(key="city", label="City")
    make_contact(name="Only", city="Pune", tags=["VIP"])
    viewer_client.get(URL)  # the first view counts the snapshot
    if stale:
        make_stale()
    with django_assert_max_num_queries(9 if stale else 7), task_queue.commits():
        assert viewer_client.get(URL).status_code == 200
    fill_book(Book(), scale=12)
    for index in range(15):
        AttributeFactory(key=f"extra_{index}", label=f"Extra {index}", type=FieldType.NUMBER)
        make_contact(tags=[f"Bulk {index}"], **{f"extra_{index}": index})
    refresh_stored_snapshot()
    if stale:
        make_stale()
    with django_assert_max_num_queries(9 if stale else 7), task_queue.commits():
        assert viewer_client.get(URL).status_code == 200
    assert len(task_queue.refreshes()) == (2 if stale else 0)


@pytest.mark.parametrize("role", ["Viewers", "Editors", "Managers"])
def test_every_role_sees_the_page_and_its_link(db, client, role):
    client.force_login(UserFactory(username=role.lower(), groups=[role]))
    response = client.get(URL)
    assert response.status_code == 200
    assert b'href="/overview/">Overview</a>' in response.content
    assert b'href="/overview/">Overview</a>' in client.get("/").content


def test_signed_out_goes_to_log_in_and_no_role_is_refused(db, client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(UserFactory(username="nobody"))
    assert client.get(URL).status_code == 403


def test_an_empty_book_reads_well(db, viewer_client):
    page = viewer_client.get(URL).content.decode()
    assert "No contact has a tag yet." in page
    assert "There are no custom fields yet." in page
    assert "Nothing has been uploaded yet." in page
    assert 'data-testid="opted-in-share">0% of all contacts' in page


def test_names_from_people_are_escaped_in_charts_and_tables(db, editor_client):
    hostile = '<script>alert("x")</script>'
    AttributeFactory(key="evil", label=hostile)
    make_contact(tags=[hostile], evil="1")
    upload_job(None, f"{hostile}.csv", rows_created=1)
    page = editor_client.get(URL).content.decode()
    assert hostile not in page
    assert page.count("&lt;script&gt;alert(") >= 6  # tags and fields: chart and table; uploads

"""Bad input a probe of the product found, each answered clearly now.

The other items of that probe have their tests beside the code they concern: the kinds
(tests/contacts/test_kinds.py, test_surfaces.py), the CSV reader and the import
(tests/bulkupload/test_bad_files.py, test_csvfile.py) and the API edge (tests/api/test_limits.py,
test_number_limits.py).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from bulkupload.models import UploadJob
from contacts.models import Activity, Attribute, Contact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "page=18446744073709551617",
        "page=" + "9" * 5000,
        "f=age:gt:" + "9" * 5000,
        "f=age:between:1|" + "9" * 5000,
        "f=birthday:after:9999-12-31",
        "f=birthday:before:0001-01-01T00:00:00Z",
        "f=created_at:after:9999-12-31T23:59:59Z",
        "&".join(["f=age:gt:1"] * 1000),
    ],
)
def test_list_urls_at_the_edges_show_the_list(known_contact, viewer_client: Client, query):
    response = viewer_client.get(f"/?{query}")

    assert response.status_code == 200


def test_a_page_beyond_any_list_is_named_and_the_first_page_shown(known_contact, viewer_client):
    response = viewer_client.get("/?page=18446744073709551617")

    assert "Page: at most 1,000,000,000; showing the first page" in response.content.decode()
    assert response.context["table"].page.number == 1


def test_a_thousand_conditions_are_capped_with_a_message(known_contact, viewer_client):
    response = viewer_client.get("/?" + "&".join(["f=age:gt:1"] * 1000))

    assert "Filters: at most 50 conditions; the first 50 of 1,000 are applied" in (
        response.content.decode()
    )


def test_a_list_url_past_djangos_parameter_limit_says_so(known_contact, viewer_client):
    response = viewer_client.get("/?q=a&" + "&".join(["f=age:gt:1"] * 1000))

    assert response.status_code == 400
    assert "it has more than 1,000 parameters" in response.content.decode()


def test_a_date_time_saved_unchanged_keeps_its_seconds_and_writes_nothing(
    known_contact, editor_client
):
    before = Activity.objects.count()
    editor_client.cookies["tz"] = "Asia/Kolkata"
    shown = {"value_date": "2024-10-31", "value_time": "19:30", "tz": "Asia/Kolkata"}

    response = editor_client.post(
        f"/contacts/{known_contact.pk}/fields/birthday/edit/",
        {**shown, "expected": json.dumps("2024-10-31T14:00:30Z")},
    )

    assert response.status_code == 200
    contact = Contact.objects.get(pk=known_contact.pk)
    assert contact.traits["birthday"] == "2024-10-31T14:00:30Z"
    assert (contact.version, Activity.objects.count()) == (known_contact.version, before)


def test_a_changed_minute_is_still_saved(known_contact, editor_client):
    editor_client.cookies["tz"] = "Asia/Kolkata"
    shown = {"value_date": "2024-10-31", "value_time": "19:31", "tz": "Asia/Kolkata"}

    editor_client.post(
        f"/contacts/{known_contact.pk}/fields/birthday/edit/",
        {**shown, "expected": json.dumps("2024-10-31T14:00:30Z")},
    )

    assert Contact.objects.get(pk=known_contact.pk).traits["birthday"] == "2024-10-31T14:01:00Z"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_the_columns_form_does_not_follow_next_to_another_site(viewer_client, target):
    response = viewer_client.post("/list/columns/", {"columns": ["name"], "next": target})

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "current", ["https://evil.example/?q=a", "http://testserver//evil.example/"]
)
def test_the_columns_panel_never_carries_another_site_as_next(viewer_client, current):
    panel = viewer_client.get("/list/columns/", headers={"HX-Current-URL": current})

    assert '<input type="hidden" name="next" value="/"' in panel.content.decode()


def test_the_columns_form_follows_next_within_the_site(viewer_client):
    response = viewer_client.post("/list/columns/", {"columns": ["name"], "next": "/?q=a"})

    assert response["Location"] == "/?q=a"


@pytest.mark.parametrize(
    "path", ["/", "/list/export.csv", "/uploads/", "/settings/api-keys/", "/contacts/{pk}/"]
)
def test_signed_in_answers_are_not_stored_by_any_cache(known_contact, manager_client, path):
    response = manager_client.get(path.format(pk=known_contact.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_quote_left_open_on_the_last_line_is_reported_not_skipped_as_empty(
    media_root, make_job, run_job
):
    data = b'Phone,Name\r+919876501000,\r+919876501002,\r ,"\r'

    job = run_job(make_job(data))

    assert job.status == UploadJob.Status.COMPLETED
    reason = job.problems.get(row_number=4).reason
    assert reason.startswith("line 4: the quoted cell that starts on this line is not closed")
    assert job.rows_created + job.problems.count() == 3


def test_a_nul_in_the_pencil_editor_is_refused_naming_the_field(known_contact, editor_client):
    response = editor_client.post(
        f"/contacts/{known_contact.pk}/fields/note/edit/",
        {"value": "a\x00b", "expected": json.dumps("hello")},
    )

    assert "Note: Null characters are not allowed." in response.content.decode()
    assert Contact.objects.get(pk=known_contact.pk).traits["note"] == "hello"


def test_a_new_trait_past_the_calendar_is_kept_as_text(api):
    body = {"phoneNumber": "+919876500001", "traits": {"Renewal": "9999-12-31T23:59:59-05:00"}}

    response = api.track_user(body)

    assert response.status_code == 200  # not a moment the calendar holds: text, as written
    assert Attribute.objects.get(key="renewal").type == "text"


def test_a_year_before_1000_is_stored_with_four_digits(api):
    body = {"phoneNumber": "+919876500001", "traits": {"Founded": "0999-05-05T10:35:05+05:30"}}

    assert api.track_user(body).status_code == 200
    assert Contact.objects.get().traits["founded"] == "0999-05-05T05:05:05Z"


def test_a_moment_at_the_end_of_9999_shows_east_of_utc(api, manager_client):
    body = {"phoneNumber": "+919876500001", "traits": {"Renewal": "9999-12-31T23:00:00Z"}}
    assert api.track_user(body).status_code == 200
    contact = Contact.objects.get()
    manager_client.cookies["tz"] = "Asia/Kolkata"

    for path in [
        "/contacts/{pk}/",
        "/contacts/{pk}/activity/",
        "/contacts/{pk}/fields/renewal/edit/",
    ]:
        response = manager_client.get(path.format(pk=contact.pk))
        assert response.status_code == 200, path
        if "edit" not in path:
            assert "9999-12-31 23:00 UTC" in response.content.decode()

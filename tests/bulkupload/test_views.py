from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bulkupload import csvfile
from bulkupload.models import UploadJob
from contacts.models import Attribute, Contact, FieldType, Tag
from tests.factories import AttributeFactory, TagFactory, make_contact

pytestmark = pytest.mark.django_db

GOOD = (
    "Full Name,Phone Number,Country Code,Email Address,WhatsApp Opted,Pin Code,Score\n"
    "Asha,9876500001,91,asha@example.com,TRUE,560001,4\n"
    "Ravi,9876500002,91,ravi@example,FALSE,560002,x\n"
)


def upload(client, text: str | bytes, name: str = "people.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(reverse("bulkupload:new"), {"file": SimpleUploadedFile(name, data)})


def test_viewer_cannot_upload(viewer_client):
    assert viewer_client.get(reverse("bulkupload:list")).status_code == 403
    assert upload(viewer_client, GOOD).status_code == 403


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.png", b"\x89PNG\r\n", "only CSV files"),
        ("zip.csv", b"PK\x03\x04\x00\x00", "not a CSV file"),
        ("nohead.csv", "9876500001,Asha\n9876500002,Ravi\n", "looks like data"),
        ("nophone.csv", "Name,City\nAsha,Pune\n", "no column holds phone numbers"),
        ("empty.csv", "Phone\n", "no data rows"),
    ],
)
def test_refused_files_write_nothing(editor_client, media_root, name, data, message):
    response = upload(editor_client, data, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not UploadJob.objects.exists()
    assert not list(media_root.rglob("*.csv"))


def test_too_big_and_too_many_rows_are_refused(editor_client, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_BYTES", 60)
    assert "larger than" in upload(editor_client, GOOD).content.decode()
    monkeypatch.setattr(csvfile, "MAX_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(csvfile, "MAX_ROWS", 1)
    assert "at most 1 are allowed" in upload(editor_client, GOOD).content.decode()
    assert not UploadJob.objects.exists()


def test_upload_stores_file_under_generated_name_and_auto_maps(editor_client):
    AttributeFactory(key="pin_code", label="Pin code", type=FieldType.NUMBER)
    response = upload(editor_client, GOOD.replace(",", ";").encode("cp1252"), "Mé.csv")
    job = UploadJob.objects.get()
    assert response.url == reverse("bulkupload:map", args=[job.pk])
    assert "Mé" not in job.file.name and job.file.name.endswith(".csv")
    assert (job.encoding, job.delimiter, job.total) == ("utf-8", ";", 2)
    assert job.column_mapping == [
        {"kind": "field", "key": "name"},
        {"kind": "field", "key": "phone"},
        {"kind": "field", "key": "country_code"},
        {"kind": "field", "key": "email"},
        {"kind": "field", "key": "whatsapp_opted"},
        {"kind": "field", "key": "pin_code"},
        {"kind": "new", "label": "Score", "type": "text"},
    ]
    page = editor_client.get(response.url).content.decode()
    assert 'data-testid="detected-delimiter">Semicolon' in page


def test_encoding_and_delimiter_can_be_corrected(editor_client):
    upload(editor_client, "Phone\tName\n+919876500001\tJosé\n".encode("cp1252"))
    job = UploadJob.objects.get()
    assert (job.encoding, job.delimiter) == ("cp1252", "\t")
    editor_client.post(
        reverse("bulkupload:map_format", args=[job.pk]),
        {"encoding": "latin-1", "delimiter": ","},
    )
    job.refresh_from_db()
    assert (job.encoding, job.delimiter) == ("latin-1", ",")
    assert job.headers == ["Phone Name"]  # one column: the tab was taken for a space


def test_mapping_needs_a_phone_and_preview_shows_cell_problems(editor_client):
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    url = reverse("bulkupload:map", args=[job.pk])
    data = {f"col_{i}": "skip" for i in range(7)} | {"list_separator": ";"}
    response = editor_client.post(url, data)
    assert "Map a column to Phone to continue" in response.content.decode()
    data |= {"col_1": "field:phone", "col_2": "field:country_code", "col_3": "field:email"}
    data |= {"col_6": "new", "col_6_label": "Score", "col_6_type": "number"}
    preview = editor_client.post(
        reverse("bulkupload:map_preview", args=[job.pk]), data, headers={"HX-Request": "true"}
    ).content.decode()
    assert preview.startswith('\n  <section id="preview"') or 'id="preview"' in preview[:80]
    assert "not a valid email address" in preview and "expected a number" in preview
    assert "+919876500001" in preview
    response = editor_client.post(url, data)
    assert response.url == reverse("bulkupload:tags", args=[job.pk])
    job.refresh_from_db()
    assert job.column_mapping[6] == {"kind": "new", "label": "Score", "type": "number"}
    assert job.step == UploadJob.Step.TAGS


def test_new_field_with_an_existing_name_is_refused(editor_client):
    AttributeFactory(key="score", label="Score")
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    data = {"col_1": "field:phone", "col_6": "new", "col_6_label": "score", "list_separator": ";"}
    response = editor_client.post(reverse("bulkupload:map", args=[job.pk]), data)
    assert "already exists" in response.content.decode()


def test_tag_popup_searches_case_insensitively_and_creates(editor_client):
    TagFactory(name="Diwali Sale")
    TagFactory(name="New", is_default=True)
    found = editor_client.get(reverse("bulkupload:tag_search"), {"q": "DIWALI"})
    assert "Diwali Sale" in found.content.decode()
    assert "New<" not in found.content.decode()  # default tags are the checkboxes
    created = editor_client.post(reverse("bulkupload:tag_new"), {"name": "  Wedding  Fair "})
    tag = Tag.objects.get(name_key="wedding fair")
    assert f'value="{tag.pk}"' in created.content.decode() and "checked" in created.content.decode()
    again = editor_client.post(reverse("bulkupload:tag_new"), {"name": "WEDDING FAIR"})
    assert f'value="{tag.pk}"' in again.content.decode()
    assert Tag.objects.filter(name_key="wedding fair").count() == 1
    empty = editor_client.post(reverse("bulkupload:tag_new"), {"name": ""})
    assert empty["HX-Retarget"] == "#tag-create-error"


def test_whole_wizard_to_result(editor_client, django_capture_on_commit_callbacks):
    make_contact(phone_number="9876500001", name="Old")
    default = TagFactory(name="Lead", is_default=True)
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    tags_page = editor_client.get(reverse("bulkupload:tags", args=[job.pk])).content.decode()
    assert "Lead" in tags_page and "See More" in tags_page
    data = {f"col_{i}": "skip" for i in range(7)} | {"list_separator": ";"}
    data |= {"col_0": "field:name", "col_1": "field:phone", "col_2": "field:country_code"}
    data |= {"col_5": "new", "col_5_label": "Pin Code", "col_5_type": "number"}
    editor_client.post(reverse("bulkupload:map", args=[job.pk]), data)
    editor_client.post(reverse("bulkupload:tags", args=[job.pk]), {"tags": [default.pk]})
    review = editor_client.get(reverse("bulkupload:review", args=[job.pk])).content.decode()
    assert "about 1 contact<" in review  # one to create, one to update
    assert "Pin Code (number)" in review
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("bulkupload:review", args=[job.pk]))
    assert response.url == reverse("bulkupload:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == UploadJob.Status.COMPLETED
    assert (job.rows_created, job.rows_updated, job.rows_failed) == (1, 1, 0)
    assert Attribute.objects.get(label="Pin Code").type == FieldType.NUMBER
    assert Contact.objects.get(phone="+919876500001").traits == {"pin_code": 560001}
    assert set(Contact.objects.filter(tags=default).values_list("name", flat=True)) == {
        "Asha",
        "Ravi",
    }
    page = editor_client.get(response.url).content.decode()
    assert f"?upload={job.pk}" in page
    fragment = editor_client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="progress"' in fragment and "<html" not in fragment
    assert "every 1s" not in fragment  # finished: no more polling
    listing = editor_client.get(reverse("bulkupload:list")).content.decode()
    assert "people.csv" in listing


def test_error_report_download(editor_client, django_capture_on_commit_callbacks):
    upload(editor_client, "Phone,Name\n+919876500001,A\n+919876500001,B\n12,C\n")
    job = UploadJob.objects.get()
    job.step = UploadJob.Step.REVIEW
    job.save()
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(reverse("bulkupload:review", args=[job.pk]))
    response = editor_client.get(reverse("bulkupload:errors", args=[job.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="people-errors.csv"'
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Row", "Outcome", "Reason", "Phone", "Name"]
    assert rows[1][:2] == ["3", "skipped"] and "row 2" in rows[1][2]
    assert rows[2][:2] == ["4", "failed"] and rows[2][3:] == ["12", "C"]


def test_cancel_stops_a_queued_job(editor_client):
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    job.status = UploadJob.Status.RUNNING
    job.save()
    response = editor_client.post(
        reverse("bulkupload:cancel", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert "stopping after the current batch" in response.content.decode()
    job.refresh_from_db()
    assert job.cancel_requested


def test_list_queries_are_constant(editor_client, editor, django_assert_max_num_queries):
    for _ in range(5):
        upload(editor_client, GOOD)
    with django_assert_max_num_queries(6):
        editor_client.get(reverse("bulkupload:list"))


def test_a_draft_is_continued_from_the_uploads_list_at_its_step(editor_client):
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    listing = editor_client.get(reverse("bulkupload:list")).content.decode()
    assert f'href="{reverse("bulkupload:map", args=[job.pk])}"' in listing and "Continue" in listing
    data = {f"col_{i}": "skip" for i in range(7)} | {"col_1": "field:phone", "list_separator": ";"}
    editor_client.post(reverse("bulkupload:map", args=[job.pk]), data)
    listing = editor_client.get(reverse("bulkupload:list")).content.decode()
    assert f'href="{reverse("bulkupload:tags", args=[job.pk])}"' in listing
    # Back to the mapping keeps what was chosen.
    page = editor_client.get(reverse("bulkupload:map", args=[job.pk])).content.decode()
    assert '<option value="skip" selected>' in page and '"field:phone" selected' in page
    # A queued job's wizard pages lead to its progress page.
    UploadJob.objects.filter(pk=job.pk).update(status=UploadJob.Status.QUEUED)
    response = editor_client.get(reverse("bulkupload:tags", args=[job.pk]))
    assert response.url == reverse("bulkupload:job", args=[job.pk])


def test_running_job_polls_and_shows_time_left(editor_client):
    from datetime import timedelta

    from django.utils import timezone

    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    now = timezone.now()
    UploadJob.objects.filter(pk=job.pk).update(
        status=UploadJob.Status.RUNNING,
        total=1000,
        rows_total_exact=True,
        done=250,
        rows_created=200,
        rows_failed=50,
        started_at=now - timedelta(seconds=10),
        heartbeat_at=now,
    )
    fragment = editor_client.get(
        reverse("bulkupload:job", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert "250 of 1000 rows done · about 0:00:30 left" in fragment
    assert 'aria-valuenow="25"' in fragment and "Cancel import" in fragment


def test_job_page_says_the_import_goes_on_only_while_it_does(editor_client):
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    url = reverse("bulkupload:job", args=[job.pk])
    UploadJob.objects.filter(pk=job.pk).update(status=UploadJob.Status.QUEUED)
    assert "the import goes on in the background" in editor_client.get(url).content.decode()
    UploadJob.objects.filter(pk=job.pk).update(status=UploadJob.Status.COMPLETED)
    assert "the import goes on in the background" not in editor_client.get(url).content.decode()


def test_tags_step_names_a_tag_that_no_longer_exists(editor_client):
    lead = TagFactory(name="Lead", is_default=True)
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    response = editor_client.post(
        reverse("bulkupload:tags", args=[job.pk]), {"tags": [lead.pk, 999999]}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Tags: tag 999999 no longer exists; choose the tags again" in page
    assert (
        f'value="{lead.pk}" class="form-check-input" aria-invalid="true" id="tag-{lead.pk}" checked'
        in page
    )
    job.refresh_from_db()
    assert job.tag_ids == []


def test_tags_step_shows_the_chosen_tags_as_chips_and_the_default_ones_as_checkboxes(
    editor_client,
):
    lead = TagFactory(name="Lead", is_default=True)
    fair = TagFactory(name="Wedding Fair")
    upload(editor_client, GOOD)
    job = UploadJob.objects.get()
    editor_client.post(reverse("bulkupload:tags", args=[job.pk]), {"tags": [fair.pk]})
    page = editor_client.get(reverse("bulkupload:tags", args=[job.pk])).content.decode()
    chips = page.split('id="chosen-tags"')[1].split("</div>")[0]
    assert f'value="{fair.pk}" class="form-check-input me-1" form="tags-form" checked' in chips
    assert "Wedding Fair" in chips and "Lead" not in chips
    assert f'id="tag-{lead.pk}">' in page  # not ticked
    assert 'id="tag-search"' in page and 'hx-get="/uploads/tags/search/"' in page

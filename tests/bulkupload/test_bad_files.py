"""Files that used to lose rows, crash or be refused wrongly: each is read or refused, saying
where, and every row of the file is accounted for.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from bulkupload import csvfile, services
from bulkupload.models import UploadJob
from contacts.models import Activity, Contact, FieldType, ListPreference
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db


def accounted(job: UploadJob) -> int:
    return (
        job.rows_created
        + job.rows_updated
        + job.rows_unchanged
        + job.rows_skipped
        + job.rows_failed
    )


def reasons(job: UploadJob) -> dict[int, str]:
    return dict(job.problems.values_list("row_number", "reason"))


def upload(client, data: bytes, name: str = "people.csv"):
    return client.post(reverse("bulkupload:new"), {"file": SimpleUploadedFile(name, data)})


def test_a_quote_left_open_fails_its_row_and_every_other_row_is_imported(make_job, run_job):
    lines = ["Name,Phone,Notes", 'Asha,+919876500001,"call after 6'] + [
        f"P{i},+91987650{1000 + i},ok" for i in range(50)
    ]
    job = run_job(make_job("\n".join(lines) + "\n"))
    assert job.status == UploadJob.Status.COMPLETED
    assert (job.rows_created, job.rows_failed) == (50, 1)
    assert accounted(job) == job.total == 51
    assert reasons(job)[2].startswith("line 2: the quoted cell that starts on this line is not")
    assert not Contact.objects.filter(phone="+919876500001").exists()


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n"])
def test_cr_and_mixed_line_endings_upload_and_import(editor_client, ending, run_job):
    data = b"Name,Phone" + ending + b'"Asha\rRao",+919876500001\r\nRavi,+919876500002\r'
    response = upload(editor_client, data)
    assert response.status_code == 302
    job = UploadJob.objects.get()
    assert job.headers == ["Name", "Phone"]
    job = run_job(job)
    assert (job.rows_created, accounted(job)) == (2, 2)
    assert Contact.objects.get(phone="+919876500001").name == "Asha\rRao"


def test_the_command_reads_a_cr_only_file(tmp_path: Path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"Name,Phone\rAsha,+919876500001\rRavi,+919876500002\r")
    out = io.StringIO()
    call_command("import_contacts", str(path), stdout=out)
    assert "created 2, updated 0, unchanged 0, skipped 0, failed 0." in out.getvalue()


def test_too_many_columns_are_refused_at_upload_naming_the_limit(editor_client):
    header = "Phone," + ",".join(f"c{i}" for i in range(399))
    response = upload(editor_client, f"{header}\n+919876500001\n".encode())
    assert response.status_code == 200
    assert "the file has 400 columns; at most 300 are allowed" in response.content.decode()
    assert not UploadJob.objects.exists()


def test_the_mapping_page_takes_the_most_columns_allowed(editor_client):
    # The mapping form posts three fields a column; Django refuses a form of more fields.
    assert 3 * csvfile.MAX_COLUMNS + 10 <= settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    headers = ["Phone", *(f"c{i}" for i in range(csvfile.MAX_COLUMNS - 1))]
    assert (
        upload(editor_client, (",".join(headers) + "\n+919876500001\n").encode()).status_code == 302
    )
    job = UploadJob.objects.get()
    url = reverse("bulkupload:map", args=[job.pk])
    assert editor_client.get(url).status_code == 200
    data = {"list_separator": ";"}
    for index in range(csvfile.MAX_COLUMNS):
        data[f"col_{index}"] = "field:phone" if index == 0 else "skip"
        data[f"col_{index}_label"] = ""
        data[f"col_{index}_type"] = FieldType.TEXT
    response = editor_client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("bulkupload:tags", args=[job.pk])


def test_a_five_megabyte_first_cell_fails_its_row_naming_the_line(make_job, run_job):
    data = b"Phone,Notes\n+919876500001," + b"y" * (5 * 1024 * 1024) + b"\n+919876500002,ok\n"
    job = make_job(data)  # not "no data rows"
    job = run_job(job)
    assert (job.rows_created, job.rows_failed, accounted(job)) == (1, 1, 2)
    assert reasons(job)[2] == (
        "line 2, column 2 (“Notes”): the cell has 5,242,880 characters; at most 32,767 are allowed"
    )


def test_a_nul_fails_its_row_naming_line_and_column(make_job, run_job):
    job = run_job(make_job(b"Phone,Name\n+919876500001,As\x00ha\n+919876500002,Ravi\n"))
    assert (job.rows_created, job.rows_failed) == (1, 1)
    assert reasons(job)[2].startswith("line 2, column 2 (“Name”): holds a NUL character")
    (problem,) = job.problems.all()
    assert problem.cells == ["+919876500001", "As\ufffdha"]
    assert not Contact.objects.filter(phone="+919876500001").exists()


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "=cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"]


def test_the_error_report_neutralises_formulas_like_the_export(make_job, run_job, editor_client):
    text = "Phone,Note\n" + "".join(f'bad,"{f.replace(chr(34), chr(34) * 2)}"\n' for f in FORMULAS)
    job = run_job(make_job(text))
    assert job.rows_failed == 4
    saved = default_storage.open(services.error_report_save(job)).read().decode("utf-8-sig")
    response = editor_client.get(reverse("bulkupload:errors", args=[job.pk]))
    downloaded = b"".join(response.streaming_content).decode("utf-8-sig")
    assert saved == downloaded
    notes = [row[4] for row in csv.reader(io.StringIO(saved))][1:]
    assert notes == ["'" + f for f in FORMULAS]
    # Uploading the report again reads the cells as they were in the file.
    again = csvfile.read_head(io.BytesIO(saved.encode("utf-8-sig")), "utf-8-sig", ",")
    assert [row[4] for row in again.rows] == FORMULAS


def test_exporting_the_list_and_uploading_it_changes_nothing(
    viewer_client, viewer, make_job, run_job
):
    AttributeFactory(key="note", label="=Note", type=FieldType.TEXT)
    AttributeFactory(key="interests", label="Interests", type=FieldType.LIST)
    ListPreference.objects.create(user=viewer, columns=["name", "tags", "note", "interests"])
    make_contact(
        name="'=quoted",
        tags=["a;b", '"VIP"', "plain"],
        note="=SUM(A1)",
        interests=["x;y", "-1+2"],
    )
    make_contact(name="@home", note="'kept apostrophe", interests=["'=z"])
    before = {
        c.pk: (c.version, c.name, c.traits, {t.name for t in c.tags.all()})
        for c in Contact.objects.all()
    }
    activity = Activity.objects.count()
    body = b"".join(viewer_client.get(reverse("contacts:list-export")).streaming_content)
    job = make_job(body)
    assert job.headers[:3] == ["Phone", "User id", "Name"] and "=Note" in job.headers
    job = run_job(job)
    assert (job.rows_unchanged, accounted(job)) == (2, 2), reasons(job)
    after = {
        c.pk: (c.version, c.name, c.traits, {t.name for t in c.tags.all()})
        for c in Contact.objects.all()
    }
    assert after == before
    assert Activity.objects.count() == activity


def test_the_mapping_preview_shows_why_a_row_cannot_be_read(editor_client):
    upload(editor_client, b'Name,Phone\nAsha,+919876500001\nRavi,"+9198765\n')
    job = UploadJob.objects.get()
    html = editor_client.get(reverse("bulkupload:map", args=[job.pk])).content.decode()
    assert "line 3: the quoted cell that starts on this line is not closed" in html

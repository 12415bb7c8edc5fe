"""Generated CSV files through the upload wizard's views and ``import_contacts``.

Upload, map and confirm as a person would; the file is refused at upload with a reason, or
every row is accounted for: rows in the file = contacts written + rows reported, and each
reported row names its line.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from hypothesis import event, given, note

from bulkupload.models import UploadJob
from tests.fuzz.strategies import Written, csv_files, fuzz_settings

pytestmark = pytest.mark.django_db


def assert_every_row_accounted_for(job: UploadJob, written: Written) -> None:
    assert job.status == UploadJob.Status.COMPLETED, job.error_message
    imported = job.rows_created + job.rows_updated + job.rows_unchanged
    reported = dict(job.problems.values_list("row_number", "reason"))
    assert imported + len(reported) == job.total == len(written.rows)
    for number, (_, expected, problem) in enumerate(written.rows, start=2):
        if expected is None:
            assert reported[number].startswith(problem), reported[number]
    for reason in reported.values():
        assert reason.strip()


@given(written=csv_files())
@fuzz_settings(25)
def test_the_wizard_refuses_a_file_with_a_reason_or_accounts_for_every_row(
    editor_client, media_root, django_capture_on_commit_callbacks, written: Written
):
    upload = SimpleUploadedFile("people.csv", written.data, content_type="text/csv")

    response = editor_client.post("/uploads/new/", {"file": upload})

    if response.status_code == 200:  # refused: the form says why, naming the file
        assert "people.csv was refused:" in response.content.decode()
        event("refused")
        return
    assert response.status_code == 302, response.content[:2000]
    job = UploadJob.objects.latest("pk")
    format_url = f"/uploads/{job.pk}/map/format/"
    editor_client.post(format_url, {"encoding": written.encoding, "delimiter": written.delimiter})
    job.refresh_from_db()
    mapping = {"list_separator": ";", "col_0": "field:phone", "col_1": "field:name"}
    mapping |= {f"col_{i}": "skip" for i in range(2, len(job.headers))}
    assert editor_client.post(f"/uploads/{job.pk}/map/", mapping).status_code == 302
    no_tags = {"csrfmiddlewaretoken": "-"}  # what a browser sends with no box ticked
    assert editor_client.post(f"/uploads/{job.pk}/tags/", no_tags).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert editor_client.post(f"/uploads/{job.pk}/review/").status_code == 302

    assert_every_row_accounted_for(UploadJob.objects.get(pk=job.pk), written)
    assert editor_client.get(f"/uploads/{job.pk}/").status_code == 200
    assert editor_client.get(f"/uploads/{job.pk}/errors.csv").status_code in {200, 404}


@given(written=csv_files())
@fuzz_settings(25)
def test_import_contacts_refuses_a_file_with_a_reason_or_accounts_for_every_row(
    db, media_root, tmp_path_factory, written: Written
):
    path = Path(tmp_path_factory.mktemp("files")) / "people.csv"
    path.write_bytes(written.data)
    note(repr(written.data))
    out = io.StringIO()
    try:
        call_command(
            "import_contacts",
            str(path),
            "--map",
            "Phone=phone",
            "--map",
            "Name=name",
            *(a for header in written.headers[2:] for a in ("--map", f"{header}=skip")),
            stdout=out,
        )
    except CommandError as exc:
        assert str(exc).startswith("people.csv was refused:"), exc
        event("refused")
        return

    assert_every_row_accounted_for(UploadJob.objects.latest("pk"), written)

"""``manage.py prune_uploads``: old uploads lose their stored files, never their rows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from bulkupload import services
from bulkupload.models import UploadJob

pytestmark = pytest.mark.django_db

TEXT = "Phone,Name\n+919876500001,Asha\n+919876500001,Again\n12,Bad\n"


def age(job: UploadJob, days: int) -> UploadJob:
    """Move a job's dates ``days`` into the past (``update`` leaves ``updated_at`` alone)."""
    job.refresh_from_db()
    when = timezone.now() - timedelta(days=days)
    fields = {"created_at": when, "updated_at": when, "queued_at": when, "heartbeat_at": when}
    if job.is_finished:
        fields["finished_at"] = when
    UploadJob.objects.filter(pk=job.pk).update(**fields)
    return UploadJob.objects.get(pk=job.pk)


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("prune_uploads", *args, stdout=out)
    return out.getvalue()


def stored(job: UploadJob) -> bool:
    return default_storage.exists(job.file.name)


@pytest.fixture
def finished_job(make_job, run_job):
    def make(days: int) -> UploadJob:
        job = run_job(make_job(TEXT))
        assert job.status == UploadJob.Status.COMPLETED and stored(job)
        return age(job, days)

    return make


def test_old_finished_job_loses_its_file_and_keeps_its_row(finished_job):
    job = finished_job(31)
    name = job.file.name
    problems = list(job.problems.values_list("row_number", "kind", "reason", "cells"))
    output = prune()
    assert not default_storage.exists(name)
    job.refresh_from_db()
    assert job.file_removed_at is not None
    assert job.status == UploadJob.Status.COMPLETED
    assert (job.rows_created, job.rows_skipped, job.rows_failed, job.done) == (1, 1, 1, 3)
    assert list(job.problems.values_list("row_number", "kind", "reason", "cells")) == problems
    assert f"Upload {job.pk} contacts.csv (Completed, finished " in output
    assert f"removed {name} ({len(TEXT):,} bytes)" in output
    assert f"Pruned 1 upload(s), 1 file(s), {len(TEXT):,} bytes freed." in output


def test_recent_finished_job_is_kept(finished_job):
    recent = finished_job(29)
    old = finished_job(31)
    output = prune("--older-than-days", "30")
    assert stored(recent) and not stored(old)
    assert UploadJob.objects.get(pk=recent.pk).file_removed_at is None
    assert f"Upload {recent.pk} " not in output and f"Upload {old.pk} " in output


@pytest.mark.parametrize("status", [UploadJob.Status.QUEUED, UploadJob.Status.RUNNING])
def test_queued_and_running_jobs_are_never_touched(make_job, status):
    job = make_job(TEXT)
    UploadJob.objects.filter(pk=job.pk).update(status=status)
    job = age(job, 400)
    output = prune("--older-than-days", "0")
    assert stored(job)
    assert UploadJob.objects.get(pk=job.pk).file_removed_at is None
    assert output == "Pruned 0 upload(s), 0 file(s), 0 bytes freed.\n"


@pytest.mark.parametrize(
    "status", [UploadJob.Status.FAILED, UploadJob.Status.CANCELLED, UploadJob.Status.COMPLETED]
)
def test_every_finished_status_is_pruned(make_job, status):
    job = make_job(TEXT)
    UploadJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now())
    job = age(job, 40)
    prune()
    assert not stored(job)
    assert UploadJob.objects.get(pk=job.pk).status == status


def test_dry_run_removes_nothing(finished_job, make_job):
    job = finished_job(60)
    draft = age(make_job(TEXT), 60)
    output = prune("--dry-run")
    assert stored(job) and stored(draft)
    assert not UploadJob.objects.filter(file_removed_at__isnull=False).exists()
    assert f"would remove {job.file.name} ({len(TEXT):,} bytes)" in output
    assert f"Upload {draft.pk} contacts.csv (Draft, uploaded " in output
    assert output.endswith(
        f"Dry run, nothing removed: 2 upload(s), 2 file(s), {2 * len(TEXT):,} bytes to free.\n"
    )
    assert "Pruned 2 upload(s)" in prune()  # the dry run changed nothing


def test_error_report_is_still_downloadable_after_prune(finished_job, editor_client):
    job = finished_job(31)
    url = reverse("bulkupload:errors", args=[job.pk])
    before = b"".join(editor_client.get(url).streaming_content)
    prune()
    response = editor_client.get(url)
    assert response.status_code == 200
    after = b"".join(response.streaming_content)
    assert after == before
    rows = list(csv.reader(io.StringIO(after.decode("utf-8-sig"))))
    assert [row[:2] for row in rows] == [["Row", "Outcome"], ["3", "skipped"], ["4", "failed"]]
    page = editor_client.get(reverse("bulkupload:job", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "The uploaded file was removed on" in html and "Download error report (2 rows)" in html


def test_saved_error_reports_are_removed_with_their_job(finished_job):
    old, recent = finished_job(31), finished_job(1)
    old_report = services.error_report_save(old)
    recent_report = services.error_report_save(recent)
    output = prune()
    assert not default_storage.exists(old_report)
    assert default_storage.exists(recent_report)
    assert f"removed {old_report} (" in output
    assert "Pruned 1 upload(s), 2 file(s)" in output


def test_files_already_gone_are_not_an_error(finished_job):
    job = finished_job(31)
    default_storage.delete(job.file.name)
    output = prune()
    assert f"already gone: {job.file.name}" in output
    assert "Pruned 1 upload(s), 0 file(s), 0 bytes freed; 1 file(s) already gone." in output
    assert UploadJob.objects.get(pk=job.pk).file_removed_at is not None


def test_a_pruned_job_is_not_listed_again(finished_job):
    job = finished_job(31)
    assert f"Upload {job.pk} " in prune()
    assert prune() == "Pruned 0 upload(s), 0 file(s), 0 bytes freed.\n"


def test_old_drafts_lose_their_file_by_upload_date(make_job, editor_client):
    old = age(make_job(TEXT), 31)
    recent = make_job(TEXT)
    touched = age(make_job(TEXT), 31)
    UploadJob.objects.filter(pk=touched.pk).update(updated_at=timezone.now())
    output = prune()
    assert not stored(old) and not stored(touched) and stored(recent)
    assert set(
        UploadJob.objects.filter(file_removed_at__isnull=False).values_list("pk", flat=True)
    ) == {
        old.pk,
        touched.pk,
    }
    assert UploadJob.objects.get(pk=old.pk).status == UploadJob.Status.DRAFT
    assert f"Upload {old.pk} contacts.csv (Draft, uploaded " in output
    listing = editor_client.get(reverse("bulkupload:list")).content.decode()
    assert listing.count("file removed") == 2 and listing.count(">Continue<") == 1


@pytest.mark.parametrize("step", ["map", "tags", "review"])
def test_wizard_of_a_pruned_draft_says_so(make_job, editor_client, step):
    job = age(make_job(TEXT), 31)
    prune()
    response = editor_client.get(reverse(f"bulkupload:{step}", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("bulkupload:new"), 302)]
    html = response.content.decode()
    assert "The file of “contacts.csv” is no longer stored (removed on " in html
    assert "upload the file again" in html
    confirm = editor_client.post(reverse("bulkupload:review", args=[job.pk]))
    assert confirm.url == reverse("bulkupload:new")
    assert UploadJob.objects.get(pk=job.pk).status == UploadJob.Status.DRAFT


def test_wizard_of_a_draft_whose_file_vanished_says_so(make_job, editor_client):
    job = make_job(TEXT)
    default_storage.delete(job.file.name)
    for name in ("map", "review"):
        response = editor_client.get(reverse(f"bulkupload:{name}", args=[job.pk]))
        assert response.status_code == 302 and response.url == reverse("bulkupload:new")
    preview = editor_client.post(
        reverse("bulkupload:map_preview", args=[job.pk]), {}, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 200 and preview["HX-Redirect"] == reverse("bulkupload:new")
    fmt = editor_client.post(
        reverse("bulkupload:map_format", args=[job.pk]), {"encoding": "utf-8", "delimiter": ","}
    )
    assert fmt.url == reverse("bulkupload:new")
    page = editor_client.get(reverse("bulkupload:new")).content.decode()
    assert "The file of “contacts.csv” is no longer stored, so this upload cannot go on" in page


def test_quiet_output_and_bad_days(finished_job):
    job = finished_job(31)
    out = io.StringIO()
    call_command("prune_uploads", "--older-than-days", "7", verbosity=0, stdout=out)
    assert out.getvalue() == f"Pruned 1 upload(s), 1 file(s), {len(TEXT):,} bytes freed.\n"
    assert not stored(job)
    with pytest.raises(CommandError, match="0 or more"):
        call_command("prune_uploads", "--older-than-days", "-1")

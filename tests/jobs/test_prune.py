"""``manage.py prune_jobs``: every kind's cleanup of old finished jobs, in one command."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from bulkupload import services as upload_services
from bulkupload.models import UploadJob
from contacts.models import BulkAction, BulkActionContact, DuplicateGroup, DuplicateScan

pytestmark = pytest.mark.django_db


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("prune_jobs", *args, stdout=out)
    return out.getvalue()


def finish(action: BulkAction, *, days: int, status: str = "completed") -> BulkAction:
    when = timezone.now() - timedelta(days=days)
    BulkAction.objects.filter(pk=action.pk).update(status=status, finished_at=when)
    return BulkAction.objects.get(pk=action.pk)


def selection(action: BulkAction) -> int:
    return BulkActionContact.objects.filter(action=action).count()


@pytest.fixture
def old_upload(editor) -> UploadJob:
    file = ContentFile(b"Phone,Name\n+919876500001,Asha\n", name="old.csv")
    job = upload_services.upload_job_create(user=editor, file=file, name="old.csv")
    when = timezone.now() - timedelta(days=40)
    UploadJob.objects.filter(pk=job.pk).update(status="completed", finished_at=when)
    return job


def test_old_finished_bulk_actions_lose_their_selection_and_keep_their_record(
    queued_bulk_action, old_upload
):
    old = finish(queued_bulk_action(3), days=31)
    failed = finish(queued_bulk_action(2), days=40, status="failed")
    recent = finish(queued_bulk_action(2), days=5)
    running = queued_bulk_action(2)
    BulkAction.objects.filter(pk=running.pk).update(
        status="running", finished_at=timezone.now() - timedelta(days=60)
    )
    dry = prune("--dry-run")
    assert f"Bulk action {old.pk} Add tags on 3 contacts (Completed) finished" in dry
    assert "would remove 3 selected contact id(s)" in dry
    assert "Dry run, nothing removed: 2 bulk action(s), 5 selected contact id(s)." in dry
    assert "Dry run, nothing removed: 1 upload(s), 1 file(s)" in dry
    assert selection(old) == 3 and default_storage.exists(old_upload.file.name)

    output = prune()
    assert "Pruned 2 bulk action(s), 5 selected contact id(s)." in output
    assert "Pruned 1 upload(s), 1 file(s)" in output
    assert (selection(old), selection(failed), selection(recent), selection(running)) == (
        0,
        0,
        2,
        2,
    )
    old.refresh_from_db()
    assert (old.status, old.total, old.done) == ("completed", 3, 0)  # the record stays
    assert not default_storage.exists(old_upload.file.name)
    assert "Pruned 0 bulk action(s), 0 selected contact id(s)." in prune()  # nothing left


def test_prune_jobs_refuses_a_negative_age():
    with pytest.raises(CommandError, match="--older-than-days"):
        prune("--older-than-days", "-1")


def scan_finished(status: str, *, days: int, groups: int) -> DuplicateScan:
    scan = DuplicateScan.objects.create(
        status=status, total=3, done=3, finished_at=timezone.now() - timedelta(days=days)
    )
    DuplicateGroup.objects.bulk_create(
        DuplicateGroup(scan=scan, reasons=["same email a@b.in"], contact_ids=[n, n + 1])
        for n in range(groups)
    )
    return scan


def groups_of(*scans: DuplicateScan) -> list[int]:
    return [DuplicateGroup.objects.filter(scan=scan).count() for scan in scans]


def test_old_finished_duplicate_searches_lose_their_groups_but_not_the_current_list():
    superseded = scan_finished("completed", days=40, groups=2)
    failed = scan_finished("failed", days=35, groups=1)  # part-way: its groups were never dropped
    current = scan_finished("completed", days=31, groups=3)  # the Duplicates page's list
    cancelled = scan_finished("cancelled", days=5, groups=1)  # recent
    running = scan_finished("running", days=60, groups=1)  # never touched
    scans = (superseded, failed, current, cancelled, running)

    dry = prune("--dry-run")
    assert f"Duplicate search {superseded.pk} (Completed) finished" in dry
    assert f"Duplicate search {failed.pk} (Failed) finished" in dry
    assert "would remove 2 group(s)" in dry
    assert "Dry run, nothing removed: 2 duplicate search(s), 3 group(s)." in dry
    assert groups_of(*scans) == [2, 1, 3, 1, 1]

    assert "Pruned 2 duplicate search(s), 3 group(s)." in prune()
    assert groups_of(*scans) == [0, 0, 3, 1, 1]
    assert DuplicateScan.objects.count() == 5  # the records stay
    assert "Pruned 0 duplicate search(s), 0 group(s)." in prune()

    # Once a newer search completes, the one before is old news like any other.
    scan_finished("completed", days=1, groups=1)
    assert "Pruned 1 duplicate search(s), 3 group(s)." in prune()
    assert groups_of(current) == [0]

"""Stalled jobs of every kind are resumed by the worker or ``manage.py resume_jobs``."""

from __future__ import annotations

import io
import os
import signal

import pytest
from django.core.management import call_command
from django.utils import timezone

from bulkupload.importing import UPLOADS
from bulkupload.models import UploadJob
from contacts.models import BulkAction
from contacts.services import BULK_ACTIONS
from jobs.registry import job_kind_for, job_kinds
from jobs.services import job_run_in_worker
from jobs.workers import shutdown_requested
from tests.jobs.stalling import stall

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, int]]:
    """The tasks queued, by kind, instead of running them."""
    seen: list[tuple[str, int]] = []
    for kind in (UPLOADS, BULK_ACTIONS):
        monkeypatch.setattr(
            kind, "enqueue", lambda job_id, kind=kind: seen.append((kind.name, job_id))
        )
    return seen


def test_every_kind_is_registered_with_its_own_model():
    assert [kind.name for kind in job_kinds()] == [
        "bulk_actions",
        "duplicate_scans",
        "field_changes",
        "upload_undos",
        "uploads",
    ]
    assert job_kind_for(UploadJob) is UPLOADS and job_kind_for(BulkAction) is BULK_ACTIONS


def test_resume_jobs_queues_stalled_jobs_of_both_kinds_and_only_those(
    stalled_upload, queued_bulk_action, queued, django_capture_on_commit_callbacks
):
    stalled_action = queued_bulk_action()
    stall(stalled_action)
    fresh_action = queued_bulk_action()
    BulkAction.objects.filter(pk=fresh_action.pk).update(
        status="running", heartbeat_at=timezone.now()
    )
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_jobs", stdout=out)
    assert out.getvalue().splitlines() == [
        f"1 bulk action(s) queued again: [{stalled_action.pk}]",
        "0 duplicate search(s) queued again: none",
        "0 field change(s) queued again: none",
        "0 undo(s) queued again: none",
        f"1 upload(s) queued again: [{stalled_upload.pk}]",
    ]
    assert sorted(queued) == [("bulk_actions", stalled_action.pk), ("uploads", stalled_upload.pk)]
    assert BulkAction.objects.get(pk=stalled_action.pk).status == "queued"
    assert BulkAction.objects.get(pk=fresh_action.pk).status == "running"
    assert UploadJob.objects.get(pk=stalled_upload.pk).status == "queued"

    again = io.StringIO()
    call_command("resume_uploads", stdout=again)  # the older name: the same command
    assert "0 upload(s) queued again: none" in again.getvalue()
    quiet = io.StringIO()
    call_command("resume_jobs", verbosity=0, stdout=quiet)  # as serve-prod's loop runs it
    assert quiet.getvalue() == ""


def test_a_worker_starting_any_job_first_resumes_what_dead_workers_left(
    stalled_upload, queued_bulk_action, queued, django_capture_on_commit_callbacks
):
    action = queued_bulk_action()
    with django_capture_on_commit_callbacks(execute=True):
        done = job_run_in_worker(BULK_ACTIONS, job_id=action.pk)
    assert done.status == "completed"
    assert queued == [("uploads", stalled_upload.pk)]
    assert UploadJob.objects.get(pk=stalled_upload.pk).status == "queued"


def test_shutdown_signal_sets_the_event_and_still_reaches_the_workers_handler():
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with shutdown_requested() as stopping:
            assert not stopping.is_set()
            os.kill(os.getpid(), signal.SIGTERM)
            assert stopping.is_set()
        assert seen == [signal.SIGTERM]
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's handler is back in place
        assert seen == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)

"""Undoing an upload: the ``upload_undos`` kind of resumable job.

What is taken back and what is kept is ``contacts.services.upload_undo_chunk``'s rule; this
module refuses what cannot be undone, queues the undo, and works through the upload's
contacts in id order, each chunk committed with the undo's progress and what it kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from dataclasses import dataclass

from django.db import transaction

from bulkupload.models import UploadJob, UploadUndo, UploadUndoKept
from bulkupload.tasks import undo_upload_job
from contacts import services as contact_services
from contacts.services import Actor, ServiceError, UndoOutcome
from jobs.models import JobStatus
from jobs.registry import JobKind
from jobs.runner import JobRun, job_run

UNDO_CHUNK = 2000
UNDOABLE = frozenset(
    {UploadJob.Status.COMPLETED, UploadJob.Status.CANCELLED, UploadJob.Status.FAILED}
)


class UndoRefused(ServiceError):
    """This upload cannot be undone (now, or again)."""


@dataclass(frozen=True, slots=True)
class UndoPreview:
    created: int  # contacts the upload created, deleted unless changed since
    updated: int  # contacts whose values go back, except those changed since
    with_tags: int  # contacts the upload tagged, the tags removed
    changed_since: int  # contacts changed since the upload: kept, whole or in part


def upload_undo_refusal(upload: UploadJob) -> str | None:
    """Why this upload cannot be undone, in words for the person asking; None if it can."""
    undo = UploadUndo.objects.filter(upload=upload).first()
    if undo is not None:
        state = "is being undone" if undo.is_active else "was already undone"
        return f"Upload {upload.pk} {state} (undo started {undo.created_at:%Y-%m-%d %H:%M})."
    if upload.status == UploadJob.Status.DRAFT:
        return f"Upload {upload.pk} was never imported: there is nothing to undo."
    if upload.status not in UNDOABLE:
        state = upload.get_status_display().lower()
        return f"Upload {upload.pk} is still {state}: undo it once it has finished."
    return None


def upload_undo_preview(upload: UploadJob) -> UndoPreview:
    return UndoPreview(**contact_services.upload_undo_counts(upload.pk))


def upload_undo_dry_run(upload: UploadJob, *, chunk_size: int = UNDO_CHUNK) -> UndoOutcome:
    """Exactly what the undo would do now, contact by contact, without writing (the command)."""
    total = UndoOutcome()
    after = 0
    while ids := contact_services.upload_undo_contact_ids(upload.pk, after=after, count=chunk_size):
        with transaction.atomic():
            total.add(
                contact_services.upload_undo_chunk(
                    actor=Actor.system(), upload_job_id=upload.pk, contact_ids=ids, dry_run=True
                )
            )
        after = ids[-1]
    return total


def upload_undo_start(
    *, upload: UploadJob, user: object | None, enqueue: bool = True
) -> UploadUndo:
    """Queue the undo of ``upload``; :class:`UndoRefused` when it cannot be undone."""
    with transaction.atomic():
        upload = UploadJob.objects.select_for_update().get(pk=upload.pk)
        if reason := upload_undo_refusal(upload):
            raise UndoRefused(reason, field="upload")
        undo = UploadUndo.objects.create(
            upload=upload,
            created_by=user,
            total=contact_services.upload_entries(upload.pk)
            .values("contact_id")
            .distinct()
            .count(),
        )
        if enqueue:
            transaction.on_commit(lambda: UPLOAD_UNDOS.enqueue(undo.pk))
    return undo


def upload_undo_work(run: JobRun, *, chunk_size: int = UNDO_CHUNK) -> Generator[None, None, None]:
    """The undo, a committed chunk of contacts at a time, after the last committed one."""
    undo = run.job
    assert isinstance(undo, UploadUndo)
    actor = Actor.job_starter(undo.created_by)
    while True:
        with run.checkpoint() as undo:
            assert isinstance(undo, UploadUndo)
            ids = contact_services.upload_undo_contact_ids(
                undo.upload_id, after=undo.last_contact_id, count=chunk_size
            )
            if ids:
                outcome = contact_services.upload_undo_chunk(
                    actor=actor, upload_job_id=undo.upload_id, contact_ids=ids
                )
                _count(undo, outcome)
                undo.last_contact_id = ids[-1]
                undo.done += len(ids)
            if len(ids) < chunk_size:
                undo.status = JobStatus.COMPLETED
        yield


def _count(undo: UploadUndo, outcome: UndoOutcome) -> None:
    undo.contacts_deleted += outcome.deleted
    undo.contacts_restored += outcome.restored
    undo.tags_removed += outcome.tags_removed
    undo.kept_count += len(outcome.kept)
    UploadUndoKept.objects.bulk_create(
        UploadUndoKept(undo=undo, contact_id=k.contact_id, field=k.field, reason=k.reason)
        for k in outcome.kept
    )


def upload_undo_run(
    *, undo_id: int, chunk_size: int = UNDO_CHUNK, should_stop: Callable[[], bool] | None = None
) -> UploadUndo:
    """Run a queued undo outside a worker (the command, tests, the bench), as its task does."""
    work = functools.partial(upload_undo_work, chunk_size=chunk_size)
    undo = job_run(UPLOAD_UNDOS, job_id=undo_id, work=work, should_stop=should_stop)
    assert isinstance(undo, UploadUndo)
    return undo


UPLOAD_UNDOS = JobKind(
    name="upload_undos",
    noun="undo",
    model=UploadUndo,
    task=undo_upload_job,
    work=upload_undo_work,
)

"""The import of a confirmed upload: the ``uploads`` kind of resumable job.

Contacts are written only through ``contacts.services.contacts_import_batch``. Each batch of
contacts commits together with the job's progress (rows done, counters, the last row
number and the rows it reports) through the job runner's checkpoint, so a worker killed at
any point resumes after the last committed row without duplicating or losing one. Claiming,
the lease, handing back on shutdown, reconnecting and resuming are ``jobs.runner``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

from django.core.files.storage import default_storage

from bulkupload import csvfile
from bulkupload.csvfile import CsvRefused
from bulkupload.mapping import RowPlanner
from bulkupload.models import UploadJob, UploadRowProblem
from bulkupload.pruning import uploads_prune
from bulkupload.services import BATCH_SIZE, upload_batch_plan
from bulkupload.tasks import import_upload_job
from contacts import services as contact_services
from contacts.fields import field_registry
from contacts.models import Tag
from contacts.phones import PhoneError
from contacts.services import Actor, ContactInputError
from jobs.registry import JobKind
from jobs.runner import JobFailed, JobRun, job_run


@dataclass(slots=True)
class Progress:
    """What a run tells its caller (the command's progress bar) after each batch."""

    done: int
    total: int


def upload_job_run(
    *,
    job_id: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> UploadJob:
    """Import a queued job's rows (the command's, and a test's, direct run); resumes.

    ``should_stop`` is asked after every committed batch; when it answers yes (the worker
    is shutting down) the job goes back to the queue, to be picked up after the last
    committed batch by the next worker.
    """
    work = functools.partial(upload_job_work, batch_size=batch_size, on_progress=on_progress)
    job = job_run(UPLOADS, job_id=job_id, work=work, should_stop=should_stop)
    assert isinstance(job, UploadJob)
    return job


def upload_job_work(
    run: JobRun,
    *,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
) -> Generator[None, None, None]:
    """The import, a committed batch at a time, after the job's last committed row."""
    try:
        yield from _import(run, batch_size, on_progress)
    except (CsvRefused, UnicodeDecodeError, ContactInputError) as exc:
        raise JobFailed(_failure_message(exc)) from exc


def _import(
    run: JobRun, batch_size: int, on_progress: Callable[[Progress], None] | None
) -> Generator[None, None, None]:
    job = run.job
    assert isinstance(job, UploadJob)
    if job.cancel_requested:  # cancelled while it waited in the queue after a hand-back
        with run.checkpoint() as job:
            job.status = UploadJob.Status.CANCELLED
        return
    if not job.rows_total_exact:
        total = _count_rows(job)
        if total > csvfile.MAX_ROWS:
            raise CsvRefused(
                f"the file has {total:,} data rows; at most {csvfile.MAX_ROWS:,} are allowed"
            )
        with run.checkpoint() as job:
            job.total, job.rows_total_exact = total, True
    planner = RowPlanner(job.column_mapping, field_registry(), list_separator=job.list_separator)
    batches = _Batches(
        planner=planner,
        tags=list(Tag.objects.filter(pk__in=job.tag_ids).order_by("name_key")),
        actor=Actor.upload(user=job.created_by, upload_job_id=job.pk),
        seen=_seen_phones(job, planner) if job.last_row_number else {},
    )
    batch: list[tuple[int, list[str]]] = []
    for number, cells in _records(job):
        if number <= job.last_row_number:
            continue
        batch.append((number, cells))
        if len(batch) >= batch_size:
            job = batches.commit(run, batch)
            batch = []
            if on_progress:
                on_progress(Progress(job.done, job.total))
            yield
    job = batches.commit(run, batch, last=True)
    if on_progress:
        on_progress(Progress(job.done, job.total))


@dataclass(slots=True)
class _Batches:
    """What every batch of one run shares: the planner, the tags, and the phones seen."""

    planner: RowPlanner
    tags: list[Tag]
    actor: Actor
    seen: dict[int, int]

    def commit(
        self, run: JobRun, batch: Sequence[tuple[int, list[str]]], *, last: bool = False
    ) -> UploadJob:
        planned = upload_batch_plan(run.job, batch, self.planner, self.seen)
        problems = planned.problems
        with run.checkpoint() as job:
            assert isinstance(job, UploadJob)
            if job.cancel_requested:
                job.status = UploadJob.Status.CANCELLED
                return job
            outcomes = contact_services.contacts_import_batch(
                actor=self.actor, rows=planned.rows, tags=self.tags
            )
            UploadRowProblem.objects.bulk_create(problems)
            job.rows_created += outcomes.count(contact_services.IMPORT_CREATED)
            job.rows_updated += outcomes.count(contact_services.IMPORT_UPDATED)
            job.rows_unchanged += outcomes.count(contact_services.IMPORT_UNCHANGED)
            job.rows_opt_in_changed += outcomes.opt_in_changed
            job.rows_failed += sum(1 for p in problems if p.kind == UploadRowProblem.Kind.FAILED)
            job.rows_skipped += sum(1 for p in problems if p.kind == UploadRowProblem.Kind.SKIPPED)
            job.done += len(batch)
            if batch:
                job.last_row_number = batch[-1][0]
            if last:
                job.total = job.done
                job.status = UploadJob.Status.COMPLETED
        self.seen.update(planned.new_seen)
        return job


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return (
            "the file is not valid text in the chosen encoding; upload it again and choose "
            "another encoding (for example Windows-1252)"
        )
    return str(exc)


def _count_rows(job: UploadJob) -> int:
    with default_storage.open(job.file.name, "rb") as stream:
        records = csvfile.iter_records(stream, job.encoding, job.delimiter)
        return sum(1 for _, cells in records if cells)


def _records(job: UploadJob) -> Iterator[tuple[int, list[str]]]:
    with default_storage.open(job.file.name, "rb") as stream:
        for number, cells in csvfile.iter_records(stream, job.encoding, job.delimiter):
            if cells:  # blank lines are not rows
                yield number, cells


def _seen_phones(job: UploadJob, planner: RowPlanner) -> dict[int, int]:
    """Phones imported by the rows already committed (to report later duplicates)."""
    reported = set(job.problems.values_list("row_number", flat=True))
    seen: dict[int, int] = {}
    for number, cells in _records(job):
        if number > job.last_row_number:
            break
        if number in reported:
            continue
        try:
            phone = planner.phone(cells)
        except PhoneError:
            continue
        seen.setdefault(int(phone.e164[1:]), number)
    return seen


UPLOADS = JobKind(
    name="uploads",
    noun="upload",
    model=UploadJob,
    task=import_upload_job,
    work=upload_job_work,
    prune=uploads_prune,
)

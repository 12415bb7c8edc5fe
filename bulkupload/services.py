"""Upload jobs: creating them from a file, the wizard's steps, and the import itself.

Contacts are written only through ``contacts.services.contacts_import_batch``; this module
owns the job's state. The import commits each batch of contacts together with the job's
progress (rows done, counters, the last row number and the rows it reports), so a worker
killed at any point resumes after the last committed row without duplicating or losing one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from bulkupload import csvfile
from bulkupload.csvfile import CsvRefused
from bulkupload.mapping import RowPlanner, auto_map, has_phone, mappable_fields
from bulkupload.models import UploadJob, UploadRowProblem
from contacts import services as contact_services
from contacts.csv_cells import csv_text
from contacts.fields import FieldRegistry, field_registry
from contacts.models import Contact, Tag
from contacts.phones import PhoneError
from contacts.services import Actor, ContactInputError, ImportRow

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
REPORTS_DIR = "uploads/reports"  # saved error reports: <job id>-<random>-errors.csv
MAX_RETRIES_PER_BATCH = 5


def stale_after() -> timedelta:
    """A running job whose worker has not committed a batch for this long is resumed."""
    return timedelta(seconds=getattr(settings, "BULKUPLOAD_STALE_SECONDS", 120))


def database_wait() -> float:
    """How long a run waits for a lost database connection to come back before giving up."""
    return float(settings.BULKUPLOAD_DATABASE_WAIT_SECONDS)


# --- Step 1: the file -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Inspection:
    encoding: str
    delimiter: str
    headers: list[str]
    rows: list[list[str]]
    records: int


def _check_header(headers: list[str]) -> None:
    if not headers or not any(headers):
        raise CsvRefused("the file has no header row naming its columns")
    for header in headers:
        digits = sum(c.isdigit() for c in header)
        if digits >= 7 or "@" in header:
            raise CsvRefused(
                f'the first row looks like data ("{header}"), not a header: add a first row '
                "that names the columns"
            )


def inspect_file(
    stream: IO[bytes], *, encoding: str | None = None, delimiter: str | None = None
) -> Inspection:
    """Check a file without parsing it all; raises :class:`CsvRefused` saying why."""
    scan = csvfile.scan(stream)
    data_rows = max(0, scan.records - 1)
    if data_rows > csvfile.MAX_ROWS:
        raise CsvRefused(
            f"the file has about {data_rows:,} data rows; at most {csvfile.MAX_ROWS:,} are "
            "allowed per file: split it and upload the parts"
        )
    encoding = encoding or scan.encoding
    if delimiter is None:
        delimiter = csvfile.sniff_delimiter(csvfile.read_head_text(stream, encoding))
    head = csvfile.read_head(stream, encoding, delimiter)
    _check_header(head.headers)
    if not head.rows:
        raise CsvRefused("the file has a header but no data rows")
    return Inspection(encoding, delimiter, head.headers, head.rows, data_rows)


def upload_job_create(*, user: AbstractBaseUser | None, file: File, name: str) -> UploadJob:
    """Store an uploaded CSV under a generated name and start a draft job for it.

    Refuses (:class:`CsvRefused`, nothing stored) a file that is not CSV text, too big, has
    too many rows, no header, or no column that could hold a phone number.
    """
    if not name.lower().endswith((".csv", ".txt", ".tsv")):
        raise CsvRefused("only CSV files (.csv) can be uploaded")
    if file.size is not None and file.size > csvfile.MAX_BYTES:
        raise CsvRefused(f"the file is larger than {csvfile.MAX_BYTES // (1024 * 1024)} MB")
    inspection = inspect_file(file)
    mapping = auto_map(inspection.headers, inspection.rows, field_registry())
    if not has_phone(mapping):
        raise CsvRefused(
            "no column holds phone numbers: name one “Phone Number” (and optionally "
            "“Country Code”), or write numbers as +<country code><number>"
        )
    job = UploadJob(
        created_by=user if user is not None and user.is_authenticated else None,
        original_name=name[:255],
        size_bytes=file.size or 0,
        encoding=inspection.encoding,
        delimiter=inspection.delimiter,
        headers=inspection.headers,
        rows_total=inspection.records,
        column_mapping=mapping,
    )
    file.seek(0)
    job.file.save(name, file, save=False)
    try:
        job.save()
    except Exception:
        default_storage.delete(job.file.name)
        raise
    return job


def upload_job_head(job: UploadJob) -> Inspection:
    with default_storage.open(job.file.name, "rb") as stream:
        head = csvfile.read_head(stream, job.encoding, job.delimiter)
    return Inspection(job.encoding, job.delimiter, head.headers, head.rows, job.rows_total)


def upload_job_set_format(*, job: UploadJob, encoding: str, delimiter: str) -> UploadJob:
    """The user's correction of the detected encoding or delimiter."""
    with default_storage.open(job.file.name, "rb") as stream:
        head = csvfile.read_head(stream, encoding, delimiter)
    _check_header(head.headers)
    job.encoding, job.delimiter = encoding, delimiter
    if head.headers != job.headers:
        job.headers = head.headers
        job.column_mapping = auto_map(head.headers, head.rows, field_registry())
    job.save(update_fields=["encoding", "delimiter", "headers", "column_mapping", "updated_at"])
    return job


# --- Steps 2 to 4 ---------------------------------------------------------------------------
def upload_job_set_mapping(
    *, job: UploadJob, mapping: list[dict[str, Any]], list_separator: str
) -> UploadJob:
    allowed = {f.key for f in mappable_fields(field_registry())}
    refused = [m["key"] for m in mapping if m.get("kind") == "field" and m["key"] not in allowed]
    if refused:  # the wizard and the command offer only these; anything else is a bug
        raise ValueError(f"fields that cannot be set from a file: {', '.join(refused)}")
    job.column_mapping = mapping
    job.list_separator = list_separator or ";"
    job.step = UploadJob.Step.TAGS if job.step == UploadJob.Step.MAP else job.step
    job.save(update_fields=["column_mapping", "list_separator", "step", "updated_at"])
    return job


def upload_job_set_tags(*, job: UploadJob, tags: Iterable[Tag]) -> UploadJob:
    """The tags added to every contact of the file."""
    job.tag_ids = sorted({tag.pk for tag in tags})
    job.step = UploadJob.Step.REVIEW
    job.save(update_fields=["tag_ids", "step", "updated_at"])
    return job


def upload_job_estimate(job: UploadJob, inspection: Inspection | None = None) -> dict[str, int]:
    """How many rows will create and update contacts, extrapolated from the first rows."""
    inspection = inspection or upload_job_head(job)
    planner = RowPlanner(job.column_mapping, field_registry(), list_separator=job.list_separator)
    phones: list[str] = []
    invalid = 0
    for cells in inspection.rows:
        row = planner.plan(cells)
        if row.errors or row.phone is None:
            invalid += 1
        elif row.phone.e164 not in phones:
            phones.append(row.phone.e164)
    existing = Contact.objects.filter(phone__in=phones).count() if phones else 0
    sample = len(inspection.rows) or 1
    total = job.rows_total
    return {
        "sample": len(inspection.rows),
        "create": round(total * (len(phones) - existing) / sample),
        "update": round(total * existing / sample),
        "invalid": round(total * invalid / sample),
    }


def upload_job_confirm(
    *, job: UploadJob, user: AbstractBaseUser | None, enqueue: bool = True
) -> UploadJob:
    """Create the new attributes the mapping asks for and queue the import.

    With ``enqueue=False`` the caller runs :func:`upload_job_run` itself (the command does).
    """
    mapping = [dict(entry) for entry in job.column_mapping]
    new_keys: list[str] = []
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if job.status != UploadJob.Status.DRAFT:
            return job
        registry = field_registry()
        for entry in mapping:
            if entry.get("kind") != "new":
                continue
            existing = registry.resolve(entry["label"])
            if existing is not None and not existing.builtin and existing.type == entry["type"]:
                attribute_key = existing.key  # created meanwhile with the same type: use it
            else:
                attribute = contact_services.attribute_create(
                    label=entry["label"], type=entry["type"], created_by=user
                )
                attribute_key = attribute.key
                new_keys.append(attribute_key)
            entry.clear()
            entry.update({"kind": "field", "key": attribute_key})
        job.column_mapping = mapping
        job.new_attribute_keys = new_keys
        job.status = UploadJob.Status.QUEUED
        job.queued_at = timezone.now()
        job.save()
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from bulkupload.tasks import import_upload_job

    import_upload_job.enqueue(job_id)


def upload_job_cancel(*, job: UploadJob) -> UploadJob:
    """Ask a queued or running import to stop at its next batch boundary."""
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if job.status == UploadJob.Status.QUEUED and job.rows_done == 0:
            job.status = UploadJob.Status.CANCELLED
            job.finished_at = timezone.now()
        elif job.is_active:
            job.cancel_requested = True
        job.save()
    return job


def upload_job_resume_if_stalled(*, job_id: int) -> bool:
    """Queue a running job again when its worker stopped committing (killed or lost).

    Pages that show the job call this; the conditional update makes sure that only one of
    several web processes queues it. The new run takes a fresh lease, so should the old
    worker be merely slow, it stops at its next batch.
    """
    cutoff = timezone.now() - stale_after()
    with transaction.atomic():
        queued = UploadJob.objects.filter(
            pk=job_id, status=UploadJob.Status.RUNNING, heartbeat_at__lt=cutoff
        ).update(status=UploadJob.Status.QUEUED, heartbeat_at=timezone.now())
        if queued:
            logger.warning("upload job %s stalled; queued again", job_id)
            transaction.on_commit(lambda: _enqueue(job_id))
    return bool(queued)


# --- The import -----------------------------------------------------------------------------
class LeaseLost(Exception):
    """Another run took over the job (this one was thought dead)."""


@dataclass(slots=True)
class Progress:
    """What a run tells its caller (the command's progress bar) after each batch."""

    rows_done: int
    rows_total: int


def _claim(job_id: int) -> tuple[UploadJob, str] | None:
    lease = uuid.uuid4().hex
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job_id)
        if job.status != UploadJob.Status.QUEUED:
            return None
        if job.cancel_requested:
            _finish(job, UploadJob.Status.CANCELLED)
            return None
        now = timezone.now()
        job.status = UploadJob.Status.RUNNING
        job.lease = lease
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.attempts += 1
        job.save()
    return job, lease


def _finish(job: UploadJob, status: str, message: str = "") -> None:
    job.status = status
    job.finished_at = timezone.now()
    job.error_message = message
    job.lease = ""
    job.save()


def _locked_job(job_id: int, lease: str) -> UploadJob:
    job = UploadJob.objects.select_for_update().get(pk=job_id)
    if job.lease != lease or job.status != UploadJob.Status.RUNNING:
        raise LeaseLost
    return job


def upload_job_run(
    *,
    job_id: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> UploadJob:
    """Import a queued job's rows (the background task's body); resumes where it stopped.

    ``should_stop`` is asked after every committed batch; when it answers yes (the worker
    is shutting down) the job goes back to the queue and the run returns, to be picked up
    after the last committed batch by the next worker.
    """
    claimed = _claim(job_id)
    if claimed is None:
        return UploadJob.objects.get(pk=job_id)
    job, lease = claimed
    try:
        failures_at: dict[int, int] = {}
        while True:
            try:
                _run(job, lease, batch_size, on_progress, should_stop)
                break
            except (OperationalError, InterfaceError) as exc:
                # The batch in flight was rolled back with its progress; carry on after the
                # last committed one once the database answers again. The same batch failing
                # again and again is not an outage: it fails the job like any other error.
                job = _reconnect(job_id, lease, exc)
                row = job.last_row_number
                failures_at[row] = failures_at.get(row, 0) + 1
                if failures_at[row] > MAX_RETRIES_PER_BATCH:
                    raise
    except LeaseLost:
        logger.warning("upload job %s was taken over by another run; stopping", job_id)
    except (CsvRefused, UnicodeDecodeError, ContactInputError) as exc:
        with transaction.atomic():
            job = _locked_job(job_id, lease)
            _finish(job, UploadJob.Status.FAILED, _failure_message(exc))
    except Exception:
        logger.exception("upload job %s failed", job_id)
        with transaction.atomic():
            job = _locked_job(job_id, lease)
            _finish(job, UploadJob.Status.FAILED, "the import stopped on an unexpected error")
        raise
    return UploadJob.objects.get(pk=job_id)


def _reconnect(job_id: int, lease: str, lost: DatabaseError) -> UploadJob:
    """Wait for the database after a lost connection; return the job as last committed.

    A restarted or unreachable database server raises ``OperationalError`` or
    ``InterfaceError`` in the middle of a batch. Nothing of that batch was committed (the
    job's counters commit with its rows), so the run reconnects and resumes after
    ``last_row_number``. Should the database stay away longer than
    ``BULKUPLOAD_DATABASE_WAIT_SECONDS``, the error is raised again: the job keeps its
    committed progress, its heartbeat goes stale, and it is resumed as a stalled job.
    """
    if connection.in_atomic_block:  # an outer transaction is lost with the connection
        raise lost
    logger.warning("upload job %s lost its database connection (%s); retrying", job_id, lost)
    deadline = time.monotonic() + database_wait()
    pause = 0.5
    while True:
        connection.close()
        try:
            with transaction.atomic():
                job = _locked_job(job_id, lease)
                job.heartbeat_at = timezone.now()
                job.save(update_fields=["heartbeat_at"])
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + pause > deadline:
                logger.error("upload job %s: the database did not come back; giving up", job_id)
                raise exc from lost
            time.sleep(pause)
            pause = min(pause * 2, 10.0)
            continue
        logger.warning("upload job %s: resuming after row %s", job_id, job.last_row_number)
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


def _run(
    job: UploadJob,
    lease: str,
    batch_size: int,
    on_progress: Callable[[Progress], None] | None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    if not job.rows_total_exact:
        rows_total = _count_rows(job)
        if rows_total > csvfile.MAX_ROWS:
            raise CsvRefused(
                f"the file has {rows_total:,} data rows; at most {csvfile.MAX_ROWS:,} are allowed"
            )
        with transaction.atomic():
            job = _locked_job(job.pk, lease)
            job.rows_total, job.rows_total_exact = rows_total, True
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["rows_total", "rows_total_exact", "heartbeat_at"])
    registry = field_registry()
    planner = RowPlanner(job.column_mapping, registry, list_separator=job.list_separator)
    tags = list(Tag.objects.filter(pk__in=job.tag_ids).order_by("name_key"))
    actor = Actor.upload(user=job.created_by, upload_job_id=job.pk)
    seen = _seen_phones(job, planner) if job.last_row_number else {}
    batch: list[tuple[int, list[str]]] = []
    for number, cells in _records(job):
        if number <= job.last_row_number:
            continue
        batch.append((number, cells))
        if len(batch) >= batch_size:
            job = _commit_batch(job, lease, batch, planner, registry, tags, actor, seen)
            batch = []
            if on_progress:
                on_progress(Progress(job.rows_done, job.rows_total))
            if job.status == UploadJob.Status.CANCELLED:
                return
            if should_stop is not None and should_stop():
                _requeue(job.pk, lease)
                return
    job = _commit_batch(job, lease, batch, planner, registry, tags, actor, seen, last=True)
    if on_progress:
        on_progress(Progress(job.rows_done, job.rows_total))


def _requeue(job_id: int, lease: str) -> None:
    """Hand a running job back to the queue at a batch boundary (its worker is stopping)."""
    with transaction.atomic():
        job = _locked_job(job_id, lease)
        job.status = UploadJob.Status.QUEUED
        job.lease = ""
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "lease", "heartbeat_at"])
        transaction.on_commit(lambda: _enqueue(job_id))
    logger.warning(
        "upload job %s handed back to the queue after row %s", job_id, job.last_row_number
    )


def _commit_batch(
    job: UploadJob,
    lease: str,
    batch: Sequence[tuple[int, list[str]]],
    planner: RowPlanner,
    registry: FieldRegistry,
    tags: list[Tag],
    actor: Actor,
    seen: dict[int, int],
    *,
    last: bool = False,
) -> UploadJob:
    rows: list[ImportRow] = []
    problems: list[UploadRowProblem] = []
    new_seen: dict[int, int] = {}
    for number, cells in batch:
        if not any(cell.strip() for cell in cells):
            skipped = UploadRowProblem.Kind.SKIPPED
            problems.append(_problem(job, number, cells, skipped, "empty row"))
            continue
        planned = planner.plan(cells)
        if planned.errors or planned.phone is None:
            reason = "; ".join(planned.errors)
            problems.append(_problem(job, number, cells, UploadRowProblem.Kind.FAILED, reason))
            continue
        key = int(planned.phone.e164[1:])
        first = seen.get(key) or new_seen.get(key)
        if first is not None:
            reason = f"duplicate: phone {planned.phone.e164} is already on row {first}"
            problems.append(_problem(job, number, cells, UploadRowProblem.Kind.SKIPPED, reason))
            continue
        new_seen[key] = number
        rows.append(ImportRow(planned.phone, planned.builtin, planned.traits, planned.tags))
    with transaction.atomic():
        job = _locked_job(job.pk, lease)
        if job.cancel_requested:
            _finish(job, UploadJob.Status.CANCELLED)
            return job
        outcomes = contact_services.contacts_import_batch(actor=actor, rows=rows, tags=tags)
        UploadRowProblem.objects.bulk_create(problems)
        job.rows_created += outcomes.count(contact_services.IMPORT_CREATED)
        job.rows_updated += outcomes.count(contact_services.IMPORT_UPDATED)
        job.rows_unchanged += outcomes.count(contact_services.IMPORT_UNCHANGED)
        job.rows_failed += sum(1 for p in problems if p.kind == UploadRowProblem.Kind.FAILED)
        job.rows_skipped += sum(1 for p in problems if p.kind == UploadRowProblem.Kind.SKIPPED)
        job.rows_done += len(batch)
        if batch:
            job.last_row_number = batch[-1][0]
        job.heartbeat_at = timezone.now()
        if last:
            job.rows_total = job.rows_done
            _finish(job, UploadJob.Status.COMPLETED)
        else:
            job.save()
    seen.update(new_seen)
    return job


def _problem(
    job: UploadJob, number: int, cells: list[str], kind: str, reason: str
) -> UploadRowProblem:
    return UploadRowProblem(job=job, row_number=number, kind=kind, reason=reason, cells=cells)


# --- The error report -----------------------------------------------------------------------
def error_report_rows(job: UploadJob) -> Iterator[list[str]]:
    """The error report as CSV rows: row number, outcome, reason, then the original cells."""
    yield ["Row", "Outcome", "Reason", *job.headers]
    problems = job.problems.order_by("row_number").values_list(
        "row_number", "kind", "reason", "cells"
    )
    for number, kind, reason, cells in problems.iterator(chunk_size=2000):
        yield [str(number), kind, reason, *cells]


def wait_for(job_id: int, timeout: float = 30.0) -> UploadJob:
    """Poll until a job is finished (for the command and tests running a real worker)."""
    deadline = time.monotonic() + timeout
    while True:
        job = UploadJob.objects.get(pk=job_id)
        if job.is_finished or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


# --- Dry run (the command's --dry-run) ------------------------------------------------------
def upload_dry_run(
    *,
    stream: IO[bytes],
    encoding: str,
    delimiter: str,
    mapping: list[dict[str, Any]],
    list_separator: str = ";",
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """What an import would do, without writing: the same planning, then read-only lookups.

    Rows that would change nothing count as updates here (telling them apart needs the
    stored values, which a dry run does not compare).
    """
    planner = RowPlanner(mapping, field_registry(), list_separator=list_separator)
    totals = {"rows": 0, "create": 0, "update": 0, "skipped": 0, "failed": 0}
    seen: set[int] = set()
    pending: list[str] = []

    def flush() -> None:
        existing = Contact.objects.filter(phone__in=pending).count() if pending else 0
        totals["update"] += existing
        totals["create"] += len(pending) - existing
        pending.clear()

    for _, cells in csvfile.iter_records(stream, encoding, delimiter):
        if not cells:
            continue
        totals["rows"] += 1
        if not any(cell.strip() for cell in cells):
            totals["skipped"] += 1
            continue
        planned = planner.plan(cells)
        if planned.errors or planned.phone is None:
            totals["failed"] += 1
            continue
        key = int(planned.phone.e164[1:])
        if key in seen:
            totals["skipped"] += 1
            continue
        seen.add(key)
        pending.append(planned.phone.e164)
        if len(pending) >= batch_size:
            flush()
    flush()
    return totals


def error_report_save(job: UploadJob) -> str:
    """Write the error report into the default storage; returns its storage name."""
    name = f"{REPORTS_DIR}/{job.pk}-{uuid.uuid4().hex[:8]}-errors.csv"
    return default_storage.save(name, ContentFile(csv_text(error_report_rows(job)).encode()))


def upload_jobs_stalled() -> list[int]:
    """Ids of running jobs whose worker has not committed for ``BULKUPLOAD_STALE_SECONDS``."""
    cutoff = timezone.now() - stale_after()
    stalled = UploadJob.objects.filter(status=UploadJob.Status.RUNNING, heartbeat_at__lt=cutoff)
    return list(stalled.order_by("pk").values_list("pk", flat=True))


def upload_jobs_resume_stalled() -> list[int]:
    """Queue again every running job whose worker stopped committing; returns their ids."""
    return [
        job_id for job_id in upload_jobs_stalled() if upload_job_resume_if_stalled(job_id=job_id)
    ]


# --- Cleanup (manage.py prune_uploads) ------------------------------------------------------


@dataclass(slots=True)
class PrunedJob:
    """One job whose stored files were removed (or, in a dry run, would be)."""

    job_id: int
    name: str
    status: str
    status_label: str
    since: datetime
    removed: list[tuple[str, int]]
    missing: list[str]


@dataclass(slots=True)
class PruneResult:
    dry_run: bool
    jobs: list[PrunedJob]

    @property
    def files(self) -> int:
        return sum(len(job.removed) for job in self.jobs)

    @property
    def bytes(self) -> int:
        return sum(size for job in self.jobs for _, size in job.removed)

    @property
    def missing(self) -> int:
        return sum(len(job.missing) for job in self.jobs)


def _report_files() -> dict[int, list[str]]:
    """The saved error reports (``<job id>-<random>-errors.csv``) by job id."""
    try:
        _, names = default_storage.listdir(REPORTS_DIR)
    except FileNotFoundError:
        return {}
    reports: dict[int, list[str]] = {}
    for name in sorted(names):
        job_id = name.split("-", 1)[0]
        if job_id.isascii() and job_id.isdigit():
            reports.setdefault(int(job_id), []).append(f"{REPORTS_DIR}/{name}")
    return reports


def _remove_files(names: list[str], *, dry_run: bool) -> tuple[list[tuple[str, int]], list[str]]:
    removed: list[tuple[str, int]] = []
    missing: list[str] = []
    for name in names:
        try:
            size = default_storage.size(name) if default_storage.exists(name) else None
        except FileNotFoundError:
            size = None
        if size is None:
            missing.append(name)
            continue
        if not dry_run:
            default_storage.delete(name)
        removed.append((name, size))
    return removed, missing


def upload_files_prune(*, older_than: timedelta, dry_run: bool) -> PruneResult:
    """Remove the stored files of finished uploads and unconfirmed drafts older than this.

    Finished jobs (completed, failed, cancelled) count from when they finished, drafts from
    when they were uploaded; queued and running jobs are never touched. The job rows, their
    counters and reported rows stay (the error report is built from those), and the job
    records ``file_removed_at``. Files that are already gone are reported, not an error.
    """
    cutoff = timezone.now() - older_than
    finished = [UploadJob.Status.COMPLETED, UploadJob.Status.FAILED, UploadJob.Status.CANCELLED]
    due = Q(file_removed_at__isnull=True) & (
        Q(status__in=finished, finished_at__lt=cutoff)
        | Q(status__in=finished, finished_at__isnull=True, updated_at__lt=cutoff)
        | Q(status=UploadJob.Status.DRAFT, created_at__lt=cutoff)
    )
    reports = _report_files()
    result = PruneResult(dry_run=dry_run, jobs=[])
    for job_id in UploadJob.objects.filter(due).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            # Locked and checked again: a draft confirmed meanwhile is no longer due.
            jobs = UploadJob.objects.filter(due, pk=job_id)
            job = (jobs if dry_run else jobs.select_for_update()).first()
            if job is None:
                continue
            names = [job.file.name] if job.file.name else []
            removed, missing = _remove_files(names + reports.get(job.pk, []), dry_run=dry_run)
            if not dry_run:
                job.file_removed_at = timezone.now()
                job.save(update_fields=["file_removed_at"])
        since = job.created_at if job.status == UploadJob.Status.DRAFT else job.finished_at
        result.jobs.append(
            PrunedJob(
                job_id=job.pk,
                name=job.display_name,
                status=job.status,
                status_label=job.get_status_display(),
                since=since or job.updated_at,
                removed=removed,
                missing=missing,
            )
        )
    return result

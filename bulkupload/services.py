"""Upload jobs: creating them from a file, the wizard's steps, planning a batch of rows, and
the error report. The import itself is ``bulkupload.importing``; cleanup is
``bulkupload.pruning``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from bulkupload import csvfile
from bulkupload.csvfile import CsvRefused, UnreadableRecord
from bulkupload.mapping import RowPlanner, auto_map, has_phone, mappable_fields
from bulkupload.models import UploadJob, UploadRowProblem
from contacts import services as contact_services
from contacts.csv_cells import csv_text
from contacts.fields import field_registry
from contacts.models import Contact, Tag
from contacts.services import ImportRow
from jobs.registry import job_kind_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000  # rows a batch: the import's, and the dry run's lookups
REPORTS_DIR = "uploads/reports"  # saved error reports: <job id>-<random>-errors.csv


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
        total=inspection.records,
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
    return Inspection(job.encoding, job.delimiter, head.headers, head.rows, job.total)


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
    total = job.total
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

    With ``enqueue=False`` the caller runs ``importing.upload_job_run`` itself (the command does).
    """
    mapping = [dict(entry) for entry in job.column_mapping]
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
            entry.clear()
            entry.update({"kind": "field", "key": attribute_key})
        job.column_mapping = mapping
        job.status = UploadJob.Status.QUEUED
        job.queued_at = timezone.now()
        job.save()
        if enqueue:
            transaction.on_commit(lambda: job_kind_for(UploadJob).enqueue(job.pk))
    return job


def upload_job_cancel(*, job: UploadJob) -> UploadJob:
    """Ask a queued or running import to stop at its next batch boundary."""
    with transaction.atomic():
        job = UploadJob.objects.select_for_update().get(pk=job.pk)
        if job.status == UploadJob.Status.QUEUED and job.done == 0:
            job.status = UploadJob.Status.CANCELLED
            job.finished_at = timezone.now()
        elif job.is_active:
            job.cancel_requested = True
        job.save()
    return job


# --- Planning a batch of rows (the import commits it: bulkupload.importing) ---------------
@dataclass(slots=True)
class PlannedBatch:
    rows: list[ImportRow]
    problems: list[UploadRowProblem]
    new_seen: dict[int, int]  # phones first seen in this batch, by the row they are on


def upload_batch_plan(
    job: UploadJob,
    batch: Sequence[tuple[int, list[str]]],
    planner: RowPlanner,
    seen: dict[int, int],
) -> PlannedBatch:
    """The rows to import and the rows to report, before the batch's transaction starts."""
    rows: list[ImportRow] = []
    problems: list[UploadRowProblem] = []
    new_seen: dict[int, int] = {}
    for number, cells in batch:
        # An unreadable record may look empty (`` ,"`` at the end of the file): its problem
        # is what the user must see.
        if not isinstance(cells, UnreadableRecord) and not any(c.strip() for c in cells):
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
    return PlannedBatch(rows, problems, new_seen)


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

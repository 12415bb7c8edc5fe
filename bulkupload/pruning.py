"""Cleanup of old uploads (``manage.py prune_uploads``, and the uploads' part of
``manage.py prune_jobs``): their stored files go, their rows stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bulkupload.models import UploadJob
from bulkupload.services import REPORTS_DIR
from jobs.registry import PruneReport


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

    def lines(self) -> list[str]:
        """One line a job: what was (or would be) removed."""
        verb = "would remove" if self.dry_run else "removed"
        lines = []
        for job in self.jobs:
            when = "uploaded" if job.status == UploadJob.Status.DRAFT else "finished"
            parts = [f"{verb} {name} ({size:,} bytes)" for name, size in job.removed]
            parts += [f"already gone: {name}" for name in job.missing]
            state = f"{job.status_label}, {when} {job.since:%Y-%m-%d}"
            lines.append(
                f"Upload {job.job_id} {job.name} ({state}): {'; '.join(parts) or 'no files'}"
            )
        return lines

    def summary(self) -> str:
        summary = (
            f"{len(self.jobs)} upload(s), {self.files} file(s), "
            f"{self.bytes:,} bytes {'to free' if self.dry_run else 'freed'}"
        )
        if self.missing:
            summary += f"; {self.missing} file(s) already gone"
        return summary


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


def uploads_prune(*, older_than: timedelta, dry_run: bool) -> PruneReport:
    """The uploads' cleanup as ``manage.py prune_jobs`` runs it (see :func:`upload_files_prune`)."""
    result = upload_files_prune(older_than=older_than, dry_run=dry_run)
    return PruneReport(lines=result.lines(), summary=result.summary())

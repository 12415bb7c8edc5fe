"""Remove the stored files of old uploads (run it daily from cron or a systemd timer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkupload import services
from bulkupload.models import UploadJob


class Command(BaseCommand):
    help = (
        "Remove the uploaded CSV files and saved error reports of uploads that finished "
        "(completed, failed, cancelled) or were left as drafts more than N days ago. Job rows, "
        "their totals and error reports stay; queued and running uploads are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=30,
            metavar="N",
            help="Prune uploads finished (drafts: uploaded) more than N days ago (default 30).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["older_than_days"]
        if days < 0:
            raise CommandError("--older-than-days must be 0 or more")
        result = services.upload_files_prune(
            older_than=timedelta(days=days), dry_run=options["dry_run"]
        )
        verb = "would remove" if result.dry_run else "removed"
        if options["verbosity"] >= 1:
            for job in result.jobs:
                self.stdout.write(self._job_line(job, verb))
        summary = (
            f"{len(result.jobs)} upload(s), {result.files} file(s), "
            f"{result.bytes:,} bytes {'to free' if result.dry_run else 'freed'}"
        )
        if result.missing:
            summary += f"; {result.missing} file(s) already gone"
        prefix = "Dry run, nothing removed: " if result.dry_run else "Pruned "
        self.stdout.write(f"{prefix}{summary}.")

    @staticmethod
    def _job_line(job: services.PrunedJob, verb: str) -> str:
        when = "uploaded" if job.status == UploadJob.Status.DRAFT else "finished"
        parts = [f"{verb} {name} ({size:,} bytes)" for name, size in job.removed]
        parts += [f"already gone: {name}" for name in job.missing]
        files = "; ".join(parts) or "no files"
        state = f"{job.status_label}, {when} {job.since:%Y-%m-%d}"
        return f"Upload {job.job_id} {job.name} ({state}): {files}"

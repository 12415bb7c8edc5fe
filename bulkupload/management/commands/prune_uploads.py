"""Remove the stored files of old uploads (``manage.py prune_jobs`` does it for every kind of
background job; this command is the uploads' part alone)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkupload import pruning


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
        result = pruning.upload_files_prune(
            older_than=timedelta(days=days), dry_run=options["dry_run"]
        )
        if options["verbosity"] >= 1:
            for line in result.lines():
                self.stdout.write(line)
        prefix = "Dry run, nothing removed: " if result.dry_run else "Pruned "
        self.stdout.write(f"{prefix}{result.summary()}.")

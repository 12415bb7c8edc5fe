"""Clean up old background jobs of every kind (run it daily from cron or a systemd timer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.services import jobs_prune


class Command(BaseCommand):
    # The job kinds (registered names) this command cleans up; None: every kind.
    kinds: tuple[str, ...] | None = None
    help = (
        "For every kind of background job, remove what jobs finished more than N days ago "
        "no longer need: uploaded files and saved error reports of uploads (and files of "
        "drafts left that long), the contact selections of bulk actions, the groups of searches "
        "for duplicates (not the latest completed one: the Duplicates page). The job records, "
        "their totals and error reports stay; queued and running jobs are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=30,
            metavar="N",
            help="Prune jobs finished (upload drafts: uploaded) more than N days ago (default 30).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["older_than_days"]
        if days < 0:
            raise CommandError("--older-than-days must be 0 or more")
        dry_run: bool = options["dry_run"]
        for _, report in jobs_prune(
            older_than=timedelta(days=days), dry_run=dry_run, kinds=self.kinds
        ):
            if options["verbosity"] >= 1:
                for line in report.lines:
                    self.stdout.write(line)
            prefix = "Dry run, nothing removed: " if dry_run else "Pruned "
            self.stdout.write(f"{prefix}{report.summary}.")

"""Queue again the background jobs whose worker died (run it after restarting workers, or
from cron): every kind registered with ``jobs``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jobs.registry import job_kinds
from jobs.services import jobs_resume_stalled


class Command(BaseCommand):
    help = "Queue again running jobs of every kind whose worker stopped committing chunks."

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = job_kinds()
        resumed = jobs_resume_stalled(kinds)
        for kind in kinds:
            ids = resumed[kind.name]
            if ids or options["verbosity"] >= 1:  # -v 0: only what it queued, for a loop
                self.stdout.write(f"{len(ids)} {kind.noun}(s) queued again: {ids or 'none'}")

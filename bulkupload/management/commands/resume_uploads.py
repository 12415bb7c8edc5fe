"""Queue again the imports whose worker died (run it after restarting workers, or from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bulkupload import services


class Command(BaseCommand):
    help = "Queue again running uploads whose worker stopped committing batches."

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = services.upload_jobs_resume_stalled()
        self.stdout.write(f"{len(resumed)} upload(s) queued again: {resumed or 'none'}")

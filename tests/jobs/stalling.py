"""Jobs left as a killed worker leaves them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bulkupload.models import UploadJob
from contacts.models import BulkAction


def stall(job: UploadJob | BulkAction, minutes: int = 10) -> None:
    """What a worker killed with the job in hand leaves: running, silent since then."""
    type(job).objects.filter(pk=job.pk).update(
        status="running", lease="dead-run", heartbeat_at=timezone.now() - timedelta(minutes=minutes)
    )

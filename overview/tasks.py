"""The Overview's recount in the background worker, and how a request asks for it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from contacts.fields import field_registry
from overview import snapshots


@task()
def refresh_overview_snapshot(requested_at: str) -> dict[str, str]:
    """Count the Overview's snapshot, draw its charts and store them.

    Nothing to do when a snapshot counted since the request was made is stored already (a
    second request queued while the workers were stopped or busy).
    """
    counted_at = snapshots.snapshot_counted_at()
    if counted_at is not None and counted_at >= datetime.fromisoformat(requested_at):
        return {"status": "already counted", "counted_at": counted_at.isoformat()}
    stored = snapshots.snapshot_refresh(field_registry())
    return {"status": "counted", "counted_at": stored.snapshot.counted_at.isoformat()}


def snapshot_refresh_request() -> bool:
    """Ask the worker for a recount, unless one was asked for a moment ago.

    One conditional UPDATE; the request that made it enqueues the task once its transaction
    commits. True when this call enqueued it. A failure to enqueue is logged, not raised: the
    page is served from the stored snapshot, and a request after ``REFRESH_RETRY`` asks again.
    """
    now = timezone.now()
    if not snapshots.snapshot_refresh_claim(now):
        return False
    transaction.on_commit(lambda: refresh_overview_snapshot.enqueue(now.isoformat()), robust=True)
    return True

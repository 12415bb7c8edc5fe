"""How long the runner waits: for a silent worker before resuming, for a lost database."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def stale_after() -> timedelta:
    """A running job whose worker has not committed a chunk for this long is resumed.

    ``JOBS_STALE_SECONDS`` when set, else the older ``BULKUPLOAD_STALE_SECONDS``.
    """
    seconds = getattr(settings, "JOBS_STALE_SECONDS", None)
    if seconds is None:
        seconds = settings.BULKUPLOAD_STALE_SECONDS
    return timedelta(seconds=float(seconds))


def database_wait() -> float:
    """How long a run waits for a lost database connection to come back before giving up.

    ``JOBS_DATABASE_WAIT_SECONDS`` when set, else ``BULKUPLOAD_DATABASE_WAIT_SECONDS``.
    """
    seconds = getattr(settings, "JOBS_DATABASE_WAIT_SECONDS", None)
    if seconds is None:
        seconds = settings.BULKUPLOAD_DATABASE_WAIT_SECONDS
    return float(seconds)

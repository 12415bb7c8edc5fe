"""Reads of background bulk actions."""

from __future__ import annotations

from collections.abc import Iterable

from contacts.models import BulkAction


def running_bulk_actions(*, kinds: Iterable[str], limit: int = 3) -> list[BulkAction]:
    """Queued or running background bulk actions of these kinds, newest first (one query)."""
    kinds = [kind for kind in kinds if kind in BulkAction.Kind.values]
    if not kinds:
        return []
    running = BulkAction.objects.filter(
        kind__in=kinds, status__in=[BulkAction.Status.QUEUED, BulkAction.Status.RUNNING]
    )
    return list(running.defer("contact_ids").order_by("-created_at")[:limit])

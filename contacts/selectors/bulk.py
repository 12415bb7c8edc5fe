"""Reads of background bulk actions."""

from __future__ import annotations

from collections.abc import Iterable

from contacts.models import BulkAction


def _of_kinds(kinds: Iterable[str]) -> list[str]:
    return [kind for kind in kinds if kind in BulkAction.Kind.values]


def running_bulk_actions(*, kinds: Iterable[str], limit: int = 3) -> list[BulkAction]:
    """Queued or running background bulk actions of these kinds, newest first (one query)."""
    kinds = _of_kinds(kinds)
    if not kinds:
        return []
    running = BulkAction.objects.filter(
        kind__in=kinds, status__in=[BulkAction.Status.QUEUED, BulkAction.Status.RUNNING]
    )
    return list(running.order_by("-created_at")[:limit])


def recent_bulk_actions(*, kinds: Iterable[str], limit: int = 100) -> list[BulkAction]:
    """The latest background bulk actions of these kinds, any status (one query)."""
    kinds = _of_kinds(kinds)
    if not kinds:
        return []
    recent = BulkAction.objects.filter(kind__in=kinds).select_related("created_by")
    return list(recent.order_by("-created_at", "-id")[:limit])

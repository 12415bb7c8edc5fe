"""The Overview's snapshot, stored in the database and recounted by the background worker.

Counting the snapshot (:func:`overview.selectors.count_snapshot`) visits every contact and
every tag link: 0.3-0.6 s at 500,000 contacts, and drawing its per-day chart another 55-85 ms.
No request pays that. The worker counts and draws it (:func:`snapshot_refresh`, run by
``overview.tasks.refresh_overview_snapshot``) into one :class:`~overview.models.OverviewSnapshot`
row that every server process reads with one query. A request that finds it out of date
(older than ``SNAPSHOT_TTL``, from an earlier day, or counted with other custom fields) is
still served from it, says so, and asks for a recount (:func:`snapshot_refresh_claim`). Only
when there is no snapshot at all (a new installation) does a request count one itself.

Why not counts kept current by the write path: every write would have to keep them (imports,
the API, bulk actions, merges, undoing an upload, deletes cascading through tag links), and
keeping them with triggers, measured, cost 1.36-1.8x an import's CPU on SQLite and 5x the
PostgreSQL server time of creating contacts. A person reads these numbers as "about now":
the page says when they were counted, at most ``SNAPSHOT_TTL`` plus one recount ago (longer
only while the workers are busy or stopped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from contacts.fields import FieldRegistry
from overview import charts
from overview.models import SNAPSHOT_ROW, OverviewSnapshot
from overview.selectors import Bar, Day, Snapshot, Totals, count_snapshot, field_names

SNAPSHOT_TTL = 300
# A request asks for a recount only when none was asked for in this many seconds: one queued
# recount at a time, and another if that one never ran (workers stopped or the task failed).
REFRESH_RETRY = 300
# Bumped when the JSON below changes: a stored snapshot in another format is counted anew.
FORMAT = 1
TOTALS = ("contacts", "new_7_days", "new_30_days", "opted_in")
CHARTS = ("per_day", "tags", "fields")


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    snapshot: Snapshot
    charts: dict[str, str]  # CHARTS -> SVG ("" for a chart with no bars)

    def chart(self, name: str) -> SafeString:
        # Drawn by pygal, which escapes every text it writes (see charts._render), and
        # written to this row by the worker only.
        return mark_safe(self.charts[name])

    def is_stale(self, registry: FieldRegistry, now: datetime) -> bool:
        """Older than the TTL, counted on an earlier day, or with other custom fields."""
        snapshot = self.snapshot
        return (
            now - snapshot.counted_at >= timedelta(seconds=SNAPSHOT_TTL)
            or snapshot.today != timezone.localdate(now)
            or snapshot.field_names != field_names(registry)
        )


# --- To and from JSON -----------------------------------------------------------------------------
def _bar_to_json(bar: Bar) -> dict[str, Any]:
    return {"label": bar.label, "count": bar.count, "url": bar.url}


def _bar_from_json(data: dict[str, Any]) -> Bar:
    return Bar(label=data["label"], count=data["count"], url=data["url"])


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's numbers as JSON (``counted_at`` is the row's own column)."""
    return {
        "format": FORMAT,
        "totals": {name: _bar_to_json(getattr(snapshot.totals, name)) for name in TOTALS},
        "days": [
            {"day": day.day.isoformat(), "url": day.url, "by_source": dict(day.by_source)}
            for day in snapshot.days
        ],
        "tags": [_bar_to_json(bar) for bar in snapshot.tags],
        "fields": [_bar_to_json(bar) for bar in snapshot.fields],
        "field_names": sorted([key, label] for key, label in snapshot.field_names),
    }


def snapshot_from_json(data: dict[str, Any], counted_at: datetime) -> Snapshot:
    totals = data["totals"]
    return Snapshot(
        totals=Totals(**{name: _bar_from_json(totals[name]) for name in TOTALS}),
        days=[
            Day(
                day=date.fromisoformat(day["day"]),
                url=day["url"],
                by_source={source: int(n) for source, n in day["by_source"].items()},
            )
            for day in data["days"]
        ],
        tags=[_bar_from_json(bar) for bar in data["tags"]],
        fields=[_bar_from_json(bar) for bar in data["fields"]],
        field_names=frozenset((key, label) for key, label in data["field_names"]),
        counted_at=counted_at,
    )


# --- Reading, counting, storing -------------------------------------------------------------------
def snapshot_read() -> StoredSnapshot | None:
    """The stored snapshot (one query); None when none is stored, or one in another format."""
    row = (
        OverviewSnapshot.objects.filter(pk=SNAPSHOT_ROW)
        .values_list("numbers", "charts", "counted_at")
        .first()
    )
    if row is None:
        return None
    numbers, drawn, counted_at = row
    if numbers.get("format") != FORMAT or any(name not in drawn for name in CHARTS):
        return None
    return StoredSnapshot(snapshot_from_json(numbers, counted_at), drawn)


def snapshot_counted_at() -> datetime | None:
    """When the stored snapshot was counted (one query); None when there is none."""
    return (
        OverviewSnapshot.objects.filter(pk=SNAPSHOT_ROW)
        .values_list("counted_at", flat=True)
        .first()
    )


def snapshot_draw(snapshot: Snapshot) -> dict[str, str]:
    """The charts that show only the snapshot's numbers, as SVG."""
    return {
        "per_day": str(charts.draw_per_day(snapshot.days)),
        "tags": str(charts.draw_ranked(snapshot.tags, prefix="tags")) if snapshot.tags else "",
        "fields": (
            str(charts.draw_ranked(snapshot.fields, prefix="fields")) if snapshot.fields else ""
        ),
    }


def snapshot_refresh(registry: FieldRegistry) -> StoredSnapshot:
    """Count the snapshot, draw its charts and store both (clearing the recount request).

    Five queries to count, one to store. An insert the first time, an update after: the
    same statement either way, so two first requests counting at once both succeed.
    """
    snapshot = count_snapshot(registry)
    drawn = snapshot_draw(snapshot)
    OverviewSnapshot.objects.bulk_create(
        [
            OverviewSnapshot(
                pk=SNAPSHOT_ROW,
                numbers=snapshot_to_json(snapshot),
                charts=drawn,
                counted_at=snapshot.counted_at,
                refresh_requested_at=None,
            )
        ],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["numbers", "charts", "counted_at", "refresh_requested_at"],
    )
    return StoredSnapshot(snapshot, drawn)


def snapshot_refresh_claim(now: datetime) -> bool:
    """Mark a recount as asked for, unless one was in the last ``REFRESH_RETRY`` seconds.

    One conditional UPDATE: of requests arriving together, exactly one changes the row (the
    database re-checks the condition for the second once the first has written), and only
    that one should enqueue the recount.
    """
    recent = now - timedelta(seconds=REFRESH_RETRY)
    claimed = OverviewSnapshot.objects.filter(
        Q(refresh_requested_at__isnull=True) | Q(refresh_requested_at__lt=recent),
        pk=SNAPSHOT_ROW,
    ).update(refresh_requested_at=now)
    return claimed == 1

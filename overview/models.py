"""The Overview's stored snapshot: one row that every server process reads."""

from __future__ import annotations

from django.db import models

SNAPSHOT_ROW = 1


class OverviewSnapshot(models.Model):
    """The counts and charts of the Overview as last counted by the background worker.

    One row (``id`` is always :data:`SNAPSHOT_ROW`). ``numbers`` holds the snapshot as JSON
    (``overview.snapshots`` writes and reads it), ``charts`` the SVG drawn from those numbers.
    ``refresh_requested_at`` is set by the request that asked for a recount (one conditional
    UPDATE, so that only one request a few minutes enqueues it) and cleared when it is stored.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=SNAPSHOT_ROW)
    numbers = models.JSONField()
    charts = models.JSONField(default=dict)
    counted_at = models.DateTimeField()
    refresh_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=SNAPSHOT_ROW), name="overview_snapshot_single_row"
            )
        ]

    def __str__(self) -> str:
        return f"Overview snapshot counted at {self.counted_at:%Y-%m-%d %H:%M}"

"""The public API's own table: per-key request counts for the rate limit (api/throttling.py)."""

from __future__ import annotations

from django.db import models


class RateWindow(models.Model):
    """How many requests one API key made in one window of the rate limit's period.

    ``slot`` is the window's number (seconds since the epoch // period). A key has at most
    two rows: the current window and the one before it, which the sliding count weighs.
    On PostgreSQL the table is UNLOGGED (migration 0002): counts lost in a crash are
    harmless, a write-ahead-log flush on every request is not.
    """

    name = models.CharField(max_length=100)
    slot = models.BigIntegerField()
    used = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="rate_window_unique")]

    def __str__(self) -> str:
        return f"{self.name} #{self.slot}: {self.used}"

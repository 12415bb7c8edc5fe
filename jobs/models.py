"""The state every resumable background job keeps, whatever its kind."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from jobs.timing import stale_after


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})


class ResumableJob(models.Model):
    """A job a background worker carries out a committed chunk at a time.

    ``jobs.runner`` owns the fields below: a run claims a queued job under a new ``lease``,
    commits ``heartbeat_at`` and the kind's progress with every chunk, and stops as soon as
    the lease it holds is no longer the job's (another run took over). ``done`` and
    ``total`` count the kind's units of work (rows, contacts). A kind may narrow or widen
    ``status`` (an upload has a draft state before it is queued) but keeps these values.
    """

    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    lease = models.CharField(
        max_length=32, blank=True, help_text="The run that owns the job; empty when none does."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Runs that claimed the job.")
    error_message = models.TextField(blank=True)
    done = models.PositiveIntegerField(default=0, help_text="Units of work committed so far.")
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="%(app_label)s_%(class)s_stale")
        ]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_stalled(self) -> bool:
        """Running, but its worker has been silent past ``stale_after()`` (it died)."""
        if self.status != JobStatus.RUNNING or self.heartbeat_at is None:
            return False
        return self.heartbeat_at < timezone.now() - stale_after()

    @property
    def percent_done(self) -> int:
        if not self.total:
            return 100 if self.is_finished else 0
        return min(100, self.done * 100 // self.total)

"""Upload jobs: one CSV file on its way through the wizard and the background import."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone


def upload_file_name(instance: UploadJob, filename: str) -> str:
    """A generated name: the uploader's file name is kept only in ``original_name``."""
    return f"uploads/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class UploadJob(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # in the wizard
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Step(models.TextChoices):
        MAP = "map", "Map columns"
        TAGS = "tags", "Tags"
        REVIEW = "review", "Review"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    file = models.FileField(upload_to=upload_file_name, max_length=255)
    original_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=20, default="utf-8")
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list)
    # Counted at upload without parsing (quote-aware newline count); made exact by the import.
    rows_total = models.PositiveIntegerField(default=0)
    rows_total_exact = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.MAP)
    # One entry per CSV column: {"kind": "field", "key": ...} | {"kind": "new", "label": ...,
    # "type": ...} | {"kind": "skip"}.
    column_mapping = models.JSONField(default=list)
    list_separator = models.CharField(max_length=3, default=";")
    tag_ids = models.JSONField(default=list)
    new_attribute_keys = models.JSONField(default=list)
    estimate = models.JSONField(default=dict, blank=True)

    # Progress, written in the same transaction as each batch of contacts.
    rows_done = models.PositiveIntegerField(default=0, help_text="Data rows committed so far.")
    last_row_number = models.PositiveIntegerField(
        default=0, help_text="Spreadsheet row number of the last committed row: resume after it."
    )
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    error_message = models.TextField(blank=True)

    # Which run owns the job: a run whose lease was taken over stops at its next batch.
    lease = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by ``manage.py prune_uploads`` when it removed the uploaded file (rows are kept).
    file_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="uploadjob_status_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def display_name(self) -> str:
        return PurePath(self.original_name).name

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.COMPLETED, self.Status.CANCELLED, self.Status.FAILED}

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def rows_accounted(self) -> int:
        return (
            self.rows_created
            + self.rows_updated
            + self.rows_unchanged
            + self.rows_skipped
            + self.rows_failed
        )

    @property
    def percent_done(self) -> int:
        if not self.rows_total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.rows_done / self.rows_total))


class UploadRowProblem(models.Model):
    """A row that was not imported (failed) or skipped (duplicate, empty): the error report."""

    class Kind(models.TextChoices):
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    job = models.ForeignKey(UploadJob, on_delete=models.CASCADE, related_name="problems")
    row_number = models.PositiveIntegerField(help_text="As in a spreadsheet: the header is row 1.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField()
    cells = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="uploadrowproblem_unique")
        ]

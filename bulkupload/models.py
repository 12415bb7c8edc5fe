"""Upload jobs: one CSV file on its way through the wizard and the background import."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.db import models
from django.utils import timezone

from jobs.models import JobStatus, ResumableJob


def upload_file_name(instance: UploadJob, filename: str) -> str:
    """A generated name: the uploader's file name is kept only in ``original_name``."""
    return f"uploads/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class UploadJob(ResumableJob):
    """A CSV file: a draft while the wizard maps it, then a resumable import job.

    ``done`` counts data rows committed and ``total`` the file's data rows (counted at
    upload without parsing, made exact by the import).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # in the wizard
        QUEUED = JobStatus.QUEUED.value, JobStatus.QUEUED.label
        RUNNING = JobStatus.RUNNING.value, JobStatus.RUNNING.label
        COMPLETED = JobStatus.COMPLETED.value, JobStatus.COMPLETED.label
        CANCELLED = JobStatus.CANCELLED.value, JobStatus.CANCELLED.label
        FAILED = JobStatus.FAILED.value, JobStatus.FAILED.label

    class Step(models.TextChoices):
        MAP = "map", "Map columns"
        TAGS = "tags", "Tags"
        REVIEW = "review", "Review"

    updated_at = models.DateTimeField(auto_now=True)

    file = models.FileField(upload_to=upload_file_name, max_length=255)
    original_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=20, default="utf-8")
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list)
    # ``total`` is counted at upload without parsing (quote-aware newline count); made exact
    # by the import.
    rows_total_exact = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.MAP)
    # One entry per CSV column: {"kind": "field", "key": ...} | {"kind": "new", "label": ...,
    # "type": ...} | {"kind": "skip"}.
    column_mapping = models.JSONField(default=list)
    list_separator = models.CharField(max_length=3, default=";")
    tag_ids = models.JSONField(default=list)

    # Progress (with ``done``), written in the same transaction as each batch of contacts.
    last_row_number = models.PositiveIntegerField(
        default=0, help_text="Spreadsheet row number of the last committed row: resume after it."
    )
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    queued_at = models.DateTimeField(null=True, blank=True)
    # Set by ``manage.py prune_uploads`` when it removed the uploaded file (rows are kept).
    file_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta(ResumableJob.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def display_name(self) -> str:
        return PurePath(self.original_name).name

    @property
    def rows_accounted(self) -> int:
        return (
            self.rows_created
            + self.rows_updated
            + self.rows_unchanged
            + self.rows_skipped
            + self.rows_failed
        )


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

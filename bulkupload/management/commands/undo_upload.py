"""``manage.py undo_upload JOB_ID [--dry-run]``: take an upload back (see docs/undo.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkupload import undoing
from bulkupload.models import UploadJob


class Command(BaseCommand):
    help = (
        "Undo an upload: delete the contacts it created, put back the values it changed and "
        "remove the tags it added, keeping whatever changed since. --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int, help="The upload's id (import_contacts prints it).")
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--chunk-size", type=int, default=undoing.UNDO_CHUNK)

    def handle(self, *args: Any, **options: Any) -> None:
        upload = UploadJob.objects.filter(pk=options["job_id"]).first()
        if upload is None:
            raise CommandError(f"there is no upload {options['job_id']}")
        if reason := undoing.upload_undo_refusal(upload):
            raise CommandError(reason)
        preview = undoing.upload_undo_preview(upload)
        self.stdout.write(
            f"Upload {upload.pk} ({upload.display_name}): created {preview.created:,} contacts, "
            f"changed {preview.updated:,}, tagged {preview.with_tags:,}; "
            f"{preview.changed_since:,} of them changed since."
        )
        if options["dry_run"]:
            outcome = undoing.upload_undo_dry_run(upload, chunk_size=options["chunk_size"])
            self.stdout.write(
                f"Would delete {outcome.deleted:,} contacts, restore {outcome.restored:,}, "
                f"and keep {len(outcome.kept):,} changed since:"
            )
            self._kept(outcome.kept)
            return
        undo = undoing.upload_undo_start(upload=upload, user=None, enqueue=False)
        undo = undoing.upload_undo_run(undo_id=undo.pk, chunk_size=options["chunk_size"])
        self.stdout.write(
            f"Undo {undo.get_status_display().lower()}: deleted {undo.contacts_deleted:,} "
            f"contacts, restored {undo.contacts_restored:,}, removed {undo.tags_removed:,} tag "
            f"links, kept {undo.kept_count:,} changed since:"
        )
        self._kept(undo.kept.all()[:50])
        if undo.error_message:
            raise CommandError(undo.error_message)

    def _kept(self, kept: Any) -> None:
        for item in list(kept)[:50]:
            what = f"contact {item.contact_id}" + (f", {item.field}" if item.field else "")
            self.stdout.write(f"  kept {what}: {item.reason}")

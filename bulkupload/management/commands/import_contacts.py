"""Import a CSV of contacts from the command line, like the upload wizard does."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bulkupload import importing, services
from bulkupload.csvfile import CsvRefused
from bulkupload.mapping import has_phone, mappable_fields
from contacts.fields import field_registry
from contacts.kinds import DEFAULT_TYPE, is_field_type
from contacts.services import ContactInputError, tags_get_or_create


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file: columns are mapped automatically (other columns "
        "become new fields of the type their values suggest, as in the upload wizard), "
        "existing contacts are matched by phone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--tag",
            action="append",
            default=[],
            metavar="NAME",
            help="Add this tag to every contact.",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="'CSV header=field'",
            help="Map a column to a field (key or label), to 'skip', or to a new field "
            "'Label' or 'Label:type' (text, number, boolean, datetime, list).",
        )
        parser.add_argument("--list-separator", default=";")
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and count; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with path.open("rb") as stream:
            try:
                inspection = services.inspect_file(stream)
            except (CsvRefused, UnicodeDecodeError) as exc:
                raise CommandError(f"{path.name} was refused: {exc}") from None
            mapping = self._mapping(inspection, options["map"])
            if not has_phone(mapping):
                raise CommandError(f"{path.name} was refused: no column is mapped to the phone")
            self._describe(inspection, mapping)
            if options["dry_run"]:
                totals = services.upload_dry_run(
                    stream=stream,
                    encoding=inspection.encoding,
                    delimiter=inspection.delimiter,
                    mapping=mapping,
                    list_separator=options["list_separator"],
                )
                self.stdout.write(
                    "Dry run, nothing written: {rows} rows; would create {create}, update or "
                    "leave unchanged {update}, skip {skipped}, fail {failed}.".format(**totals)
                )
                return
            self._import(path, stream, mapping, options)

    def _mapping(self, inspection: services.Inspection, overrides: list[str]) -> list[dict]:
        from bulkupload.mapping import auto_map

        registry = field_registry()
        mapping = auto_map(inspection.headers, inspection.rows, registry)
        for override in overrides:
            header, sep, target = override.partition("=")
            if not sep:
                raise CommandError(f"--map {override!r}: write it as 'CSV header=field'")
            header, target = header.strip(), target.strip()
            if header not in inspection.headers:
                raise CommandError(f"--map {override!r}: the file has no column {header!r}")
            index = inspection.headers.index(header)
            if target.lower() == "skip":
                mapping[index] = {"kind": "skip"}
            elif (found := registry.resolve(target)) is not None:
                if found.key not in {f.key for f in mappable_fields(registry)}:
                    allowed = ", ".join(f.key for f in mappable_fields(registry))
                    raise CommandError(
                        f"--map {override!r}: {found.label} cannot be set from a file "
                        f"(these can: {allowed})"
                    )
                mapping[index] = {"kind": "field", "key": found.key}
            else:
                label, _, field_type = target.partition(":")
                field_type = field_type.strip().lower() or DEFAULT_TYPE
                if not is_field_type(field_type):
                    raise CommandError(f"--map {override!r}: unknown type {field_type!r}")
                mapping[index] = {"kind": "new", "label": label.strip(), "type": field_type}
        return mapping

    def _describe(self, inspection: services.Inspection, mapping: list[dict]) -> None:
        self.stdout.write(
            f"Read as {inspection.encoding}, separator {inspection.delimiter!r}, "
            f"about {inspection.records:,} rows."
        )
        for header, entry in zip(inspection.headers, mapping, strict=False):
            if entry["kind"] == "field":
                target = entry["key"]
            elif entry["kind"] == "new":
                target = f"new field {entry['label']!r} ({entry['type']})"
            else:
                target = "skipped"
            self.stdout.write(f"  {header} -> {target}")

    def _import(self, path: Path, stream: Any, mapping: list[dict], options: dict) -> None:
        stream.seek(0)
        job = services.upload_job_create(
            user=None, file=File(stream, name=path.name), name=path.name
        )
        services.upload_job_set_mapping(
            job=job, mapping=mapping, list_separator=options["list_separator"]
        )
        try:
            services.upload_job_set_tags(job=job, tags=tags_get_or_create(names=options["tag"]))
            job = services.upload_job_confirm(job=job, user=None, enqueue=False)
        except ContactInputError as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        job = importing.upload_job_run(
            job_id=job.pk, batch_size=options["batch_size"], on_progress=self._progress(started)
        )
        sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"{job.get_status_display()} in {elapsed:.1f} s: {job.done:,} rows; created "
            f"{job.rows_created:,}, updated {job.rows_updated:,}, unchanged "
            f"{job.rows_unchanged:,}, skipped {job.rows_skipped:,}, failed {job.rows_failed:,}."
        )
        self.stdout.write(f"WhatsApp opted set or changed on {job.rows_opt_in_changed:,} contacts.")
        self.stdout.write(f"Upload id: {job.pk} (undo it with: manage.py undo_upload {job.pk})")
        if job.error_message:
            raise CommandError(job.error_message)
        if job.rows_skipped or job.rows_failed:
            name = services.error_report_save(job)
            try:
                where = default_storage.path(name)
            except NotImplementedError:
                where = name
            self.stdout.write(f"Error report: {where}")

    def _progress(self, started: float):
        def show(progress: importing.Progress) -> None:
            total = max(progress.total, 1)
            done = min(progress.done, total)
            width = 30
            filled = round(width * done / total)
            rate = done / max(time.monotonic() - started, 0.001)
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% "
                f"{done:,}/{total:,} rows, {rate:,.0f} rows/s"
            )
            sys.stderr.flush()

        return show

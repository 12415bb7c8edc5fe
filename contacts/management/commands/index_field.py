"""``manage.py index_field KEY [--drop]``: add (or drop) a custom field's expression index.

Idempotent: indexing an indexed field, or dropping a missing index, only says so. On
PostgreSQL the build runs ``CONCURRENTLY`` (writes go on) and the command prints the
build's phase and progress from ``pg_stat_progress_create_index`` every few seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from contacts.models import Attribute
from contacts.services import ContactInputError
from contacts.services.field_index import field_index_create, field_index_drop

POLL_SECONDS = 3


class Command(BaseCommand):
    help = "Add an expression index on a custom field (--drop removes it). Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="The custom field's key, e.g. city.")
        parser.add_argument("--drop", action="store_true", help="Drop the index instead.")

    def handle(self, *args: object, **options: object) -> None:
        key = str(options["key"])
        attribute = Attribute.objects.filter(key=key).first()
        if attribute is None:
            raise CommandError(f'No custom field with the key "{key}"')
        say = self.stdout.write
        if options["drop"]:
            field_index_drop(attribute, progress=say)
            return
        watcher = _BuildWatcher(say) if connection.vendor == "postgresql" else None
        if watcher:
            watcher.start()
        try:
            field_index_create(attribute, progress=say)
        except ContactInputError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if watcher:
                watcher.stop()


class _BuildWatcher(threading.Thread):
    """Prints the running index build's progress from a second connection."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__(daemon=True)
        self.say = say
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(POLL_SECONDS):
                with connections["default"].cursor() as cursor:
                    cursor.execute(
                        "SELECT phase, tuples_done, tuples_total FROM "
                        "pg_stat_progress_create_index WHERE relid = 'contacts_contact'::regclass"
                    )
                    for phase, done, total in cursor.fetchall():
                        share = f" {done * 100 // total}%" if total else ""
                        self.say(f"  {phase}{share}")
        finally:
            connections["default"].close()

    def stop(self) -> None:
        self.done.set()
        self.join()

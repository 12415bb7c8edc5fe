"""``manage.py merge_contacts SURVIVOR_ID OTHER_ID...``: merge contacts into the survivor."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.services import Actor, MergeRefused, contacts_merge


class Command(BaseCommand):
    help = (
        "Merge the other contacts into the survivor: for each field the survivor's value "
        "wins if it has one, else the other's; tags combined, activity moved, the others' "
        "phones and user ids kept as aliases. Undo it from the survivor's timeline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("survivor_id", type=int)
        parser.add_argument("other_ids", type=int, nargs="+", metavar="other_id")

    def handle(self, *args: object, **options: object) -> None:
        survivor_id = int(options["survivor_id"])  # type: ignore[call-overload]
        other_ids = [int(pk) for pk in options["other_ids"]]  # type: ignore[attr-defined]
        try:
            entry = contacts_merge(
                actor=Actor.system(), survivor_id=survivor_id, other_ids=other_ids
            )
        except MergeRefused as exc:
            raise CommandError(exc.message) from None
        merged = ", ".join(str(pk) for pk in other_ids)
        self.stdout.write(f"Merged {merged} into contact {survivor_id} (merge {entry.pk}).")

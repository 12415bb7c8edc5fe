"""``manage.py find_duplicates``: search for probable duplicates and print the groups."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from contacts.models import DuplicateGroup, DuplicateScan
from contacts.services import Actor
from contacts.services.duplicates import duplicate_scan_run, duplicate_scan_start


class Command(BaseCommand):
    help = (
        "Find groups of contacts that are probably one person (the Duplicates page's search, "
        "run here) and print them: reason, then the contact ids."
    )

    def handle(self, *args: object, **options: object) -> None:
        scan = duplicate_scan_start(actor=Actor.system(), enqueue=False)
        scan = duplicate_scan_run(scan_id=scan.pk)
        if scan.status != DuplicateScan.Status.COMPLETED:
            raise CommandError(
                f"duplicate search {scan.pk} is {scan.get_status_display().lower()}: "
                f"{scan.error_message or 'another process is running it'}"
            )
        count = 0
        for group in DuplicateGroup.objects.filter(scan=scan).order_by("pk").iterator():
            ids = " ".join(str(pk) for pk in group.contact_ids)
            self.stdout.write(f"{'; '.join(group.reasons)}: {ids}")
            count += 1
        self.stderr.write(f"{count} group(s) of probable duplicates (search {scan.pk}).")

"""Reads of the Duplicates page: the latest scan and a page of its groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator

from contacts.models import Contact, DuplicateGroup, DuplicateScan, NotDuplicatePair

DUPLICATE_GROUPS_PER_PAGE = 25


@dataclass(frozen=True, slots=True)
class DuplicateGroupRow:
    pk: int
    reasons: list[str]
    contacts: list[Contact]  # those still there, unmarked, in id order


def duplicate_scan_latest() -> DuplicateScan | None:
    return DuplicateScan.objects.order_by("-created_at", "-id").first()


def duplicate_groups_page(*, page_number: Any = 1) -> tuple[Page, list[DuplicateGroupRow]]:
    """A page of the stored groups, with their contacts: three queries whatever the page
    holds. A group whose contacts were merged or marked "not duplicates" since the scan
    shows only those still to decide, and not at all when fewer than two are left."""
    groups = DuplicateGroup.objects.order_by("pk")
    page = Paginator(groups, DUPLICATE_GROUPS_PER_PAGE).get_page(page_number)
    ids = {pk for group in page.object_list for pk in group.contact_ids}
    contacts = Contact.objects.in_bulk(ids)
    marked = set(
        NotDuplicatePair.objects.filter(low_id__in=ids, high_id__in=ids).values_list(
            "low_id", "high_id"
        )
    )
    rows = []
    for group in page.object_list:
        live = [pk for pk in group.contact_ids if pk in contacts]
        left = [
            pk
            for pk in live
            if any(tuple(sorted((pk, other))) not in marked for other in live if other != pk)
        ]
        if len(left) > 1:
            rows.append(DuplicateGroupRow(group.pk, group.reasons, [contacts[pk] for pk in left]))
    return page, rows

"""Reads of the contact page: the contact with its tags, its timeline, tag suggestions."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator

from contacts.models import Activity, Contact, Tag, tag_key

TIMELINE_PAGE_SIZE = 20
TAG_SUGGESTION_LIMIT = 8


def contact_page_contact(*, pk: int) -> Contact:
    """One contact with its tags, by name (``Tag``'s ordering): two queries however many tags
    it has. Raises ``Contact.DoesNotExist``."""
    return Contact.objects.prefetch_related("tags").get(pk=pk)


def contact_timeline(*, contact_id: int, page_number: Any = 1) -> Page:
    """A page of the contact's activity, newest first, with who made each change.

    Two queries (count and page) whatever the number of entries; out-of-range page numbers
    give the last page.
    """
    activities = (
        Activity.objects.filter(contact_id=contact_id)
        .select_related("actor_user", "actor_api_key")
        .order_by("-created_at", "-id")
    )
    return Paginator(activities, TIMELINE_PAGE_SIZE).get_page(page_number)


def contact_tag_suggestions(*, contact_id: int, query: str) -> list[Tag]:
    """Existing tags whose name contains ``query`` in any case, names starting with it first,
    leaving out the tags the contact already has. An empty query suggests nothing."""
    key = tag_key(query)
    if not key:
        return []
    candidates = list(
        Tag.objects.filter(name_key__contains=key)
        .exclude(contacttag__contact_id=contact_id)
        .order_by("name_key")[:50]
    )
    candidates.sort(key=lambda tag: (not tag.name_key.startswith(key), tag.name_key))
    return candidates[:TAG_SUGGESTION_LIMIT]

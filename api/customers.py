"""Get Users' answer: one page of contacts, each in Interakt's ``customer`` shape.

The query is the contact list's (``contacts.selectors.contact_list``: the same filters, the
same order); only the shape of a customer and the tags' order are the API's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch

from contacts.fields import Field, FieldRegistry
from contacts.filtering import FilterTree
from contacts.models import Contact, Tag
from contacts.selectors import contact_list


@dataclass(frozen=True, slots=True)
class CustomerPage:
    total: int
    customers: list[dict[str, Any]]
    has_next_page: bool


def utc_timestamp(moment: datetime) -> str:
    """``2021-09-08T11:30:00.000Z``: Interakt's spelling of a moment."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def customer(contact: Contact, custom: list[Field]) -> dict[str, Any]:
    traits: dict[str, Any] = {
        "name": contact.name,
        "email": contact.email,
        "whatsapp_opted": contact.whatsapp_opted,
    }
    for target in custom:
        if target.key in contact.traits:
            traits[target.label] = contact.traits[target.key]
    return {
        "id": contact.pk,
        "user_id": contact.user_id,
        "phone_number": contact.phone_number,
        "country_code": f"+{contact.country_code}" if contact.country_code else "",
        "phone": contact.phone,
        "created_at_utc": utc_timestamp(contact.created_at),
        "modified_at_utc": utc_timestamp(contact.updated_at),
        "opted_in_at_utc": utc_timestamp(contact.opted_at) if contact.opted_at else None,
        "opt_in_source": contact.opt_in_source,
        "traits": traits,
        "tags": [tag.name for tag in contact.tags.all()],
    }


def customer_page(
    *,
    filters: FilterTree,
    offset: int,
    limit: int,
    registry: FieldRegistry,
) -> CustomerPage:
    """Contacts matching the filters, oldest first: ``limit`` of them from ``offset``."""
    contacts = contact_list(registry=registry, filters=filters, sort="created_at").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name_key"))
    )
    total = contacts.count()
    page = list(contacts[offset : offset + limit])
    custom = registry.custom
    return CustomerPage(
        total=total,
        customers=[customer(contact, custom) for contact in page],
        has_next_page=offset + len(page) < total,
    )

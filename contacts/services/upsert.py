"""Create or update the contact a user id or phone names (DESIGN.md rules 2-6): the Track
API's single call and every caller that matches before writing.

The contacts that own the user id or the phone are read locked (the matcher); when none
does, the new contact's INSERT itself checks that no merge made either value an alias
(``new_contact``), and when one did, the matcher's full path follows (the aliases read, the
survivor locked and updated). A new contact so costs one read less than reading the aliases
first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contacts.fields import FieldRegistry, field_registry
from contacts.models import Activity, Contact, Tag
from contacts.phones import Phone
from contacts.selectors.match import contact_match, own_identity
from contacts.services.actor import Actor
from contacts.services.attributes import attributes_ensure
from contacts.services.contacts import assign_plan, current_values, store_plan
from contacts.services.plan import plan_change, tags_by_key
from contacts.services.planning import PlannedValues, upsert_input
from contacts.services.retry import retry_on_integrity_error
from contacts.services.tags import contact_tag_keys, tags_get_or_create


@dataclass(slots=True)
class UpsertResult:
    contact: Contact
    created: bool
    changed: bool
    activity: Activity | None = None
    opt_in_changed: bool = False  # WhatsApp opted set or cleared (stamped on the contact)


def contact_upsert(
    *,
    actor: Actor,
    user_id: str | None = None,
    phone_number: str | None = None,
    country_code: str | None = None,
    values: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    create_attributes: bool = False,
    registry: FieldRegistry | None = None,
) -> UpsertResult:
    """Create or update the contact matched by user id, else by phone (DESIGN.md rules 2-6).

    ``values`` maps field names (keys, labels or aliases of built-in and custom fields) to
    values; names not given are left alone and ``None`` clears. With ``create_attributes``,
    an unknown name creates a custom attribute whose type is inferred from its value (the
    API's behaviour). Tags are add-only and case-insensitive.
    """
    checked = upsert_input(
        user_id=user_id,
        phone_number=phone_number,
        country_code=country_code,
        values=values or {},
        tags=tags,
        create_attributes=create_attributes,
        registry=registry or field_registry(),
    )
    user_id, phone, planned, tag_names = checked
    # No savepoint inside: an IntegrityError rolls the attempt back and it runs again.
    return retry_on_integrity_error(
        lambda: _upsert_locked(actor, user_id, phone, planned, tag_names),
        what=f"upsert (phone={phone.e164 if phone else None})",
    )


def _upsert_locked(
    actor: Actor,
    user_id: str | None,
    phone: Phone | None,
    planned: PlannedValues,
    tag_names: list[str],
) -> UpsertResult:
    # The contacts that own the user id or phone, locked; a new contact's INSERT checks the
    # merges' aliases itself (``new_contact``), and when one stops it the full match follows.
    contact = contact_match(user_id=user_id, phone=phone, lock=True, owners_only=True)
    attributes_ensure(planned, actor)
    tag_rows = tags_get_or_create(names=tag_names)
    result = _upsert_apply(actor, contact, user_id, phone, planned, tag_rows, guarded=True)
    if result is None:
        contact = contact_match(user_id=user_id, phone=phone, lock=True)
        result = _upsert_apply(actor, contact, user_id, phone, planned, tag_rows, guarded=False)
    assert result is not None  # an unguarded write always ends with a result
    return result


def _upsert_apply(
    actor: Actor,
    contact: Contact | None,
    user_id: str | None,
    phone: Phone | None,
    planned: PlannedValues,
    tag_rows: list[Tag],
    *,
    guarded: bool,
) -> UpsertResult | None:
    """Plan and write on the matched ``contact``, or create one; None when ``guarded`` and
    a merge's alias stopped the new contact's insert (nothing was written)."""
    if contact is not None:
        user_id, phone = own_identity(contact, user_id=user_id, phone=phone)
    current = None if contact is None else current_values(contact)
    plan = plan_change(
        current,
        planned,
        tags=tags_by_key(tag_rows),
        current_tag_keys=contact_tag_keys(contact.pk) if contact and tag_rows else (),
        phone=phone,
        user_id=user_id,
        opt_in=actor.opt_in(),
    )
    contact = contact or Contact()
    if not plan.changed:
        return UpsertResult(contact, created=False, changed=False)
    assign_plan(contact, plan)
    activity = store_plan(actor, contact, plan, tag_rows, unless_alias=guarded)
    if activity is None:
        return None
    return UpsertResult(
        contact,
        created=plan.creating,
        changed=True,
        activity=activity,
        opt_in_changed=plan.opt_in_changed,
    )

"""Writes to one contact: create, update, tags, delete, events; the plan's writer
(``assign_plan``, ``store_plan``) that ``upsert`` (match, merge) shares.

Each function is all-or-nothing (one transaction), checks its input through the field
registry, asks :func:`contacts.services.plan.plan_change` what changes (the rules of
DESIGN.md "Rules every entry point obeys" live there) and carries the plan out: the row,
the tag links and one ``Activity``, or nothing when nothing changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.errors import (
    ContactInputError,
    DuplicateContact,
    FieldError,
    VersionConflict,
)
from contacts.fields import TAGS, Field, FieldRegistry, field_registry
from contacts.kinds import CoercionError
from contacts.models import Activity, Contact, ContactAlias, ContactTag, Tag, tag_key
from contacts.services.actor import Actor
from contacts.services.attributes import attributes_ensure
from contacts.services.new_contact import contact_insert_unless_alias
from contacts.services.plan import (
    NO_VALUES,
    ChangePlan,
    plan_change,
    tags_by_key,
    tags_removed_entry,
)
from contacts.services.planning import phone_or_error, plan_values
from contacts.services.tags import (
    clean_tag_names,
    contact_tag_keys,
    link_tags,
    tags_get_or_create,
)

logger = logging.getLogger(__name__)

# The stored values a plan may compare with (the editable built-in columns, identity, traits).
CURRENT_KEYS = ("user_id", "phone", "name", "email", "whatsapp_opted", "traits")


def current_values(contact: Contact) -> dict[str, Any]:
    """A stored contact's values, as :func:`plan_change` reads them."""
    return {key: getattr(contact, key) for key in CURRENT_KEYS}


def assign_plan(contact: Contact, plan: ChangePlan) -> None:
    """Set the plan's values on ``contact`` in memory."""
    for key, value in plan.columns.items():
        setattr(contact, key, value)
    if plan.traits is not None:
        contact.traits = plan.traits


def store_plan(
    actor: Actor,
    contact: Contact,
    plan: ChangePlan,
    tags: Iterable[Tag],
    *,
    unless_alias: bool = False,
) -> Activity | None:
    """Write a changing plan whose values ``contact`` holds: the row (the version goes up on
    every change, tag-only ones included), the tag links, the activity entry.

    ``unless_alias``: a new contact is inserted only if its phone and user id are no merge's
    alias (``contact_insert_unless_alias``); None, and nothing written, when one is."""
    now = timezone.now()
    contact.updated_at = now
    if plan.creating:
        contact.created_at = now
        if not unless_alias:
            contact.save(force_insert=True)
        elif not contact_insert_unless_alias(contact):
            return None
    else:
        contact.version += 1
        written = [*plan.columns, *(("traits",) if plan.traits is not None else ())]
        contact.save(update_fields=[*written, "version", "updated_at"])
    if plan.tags_added:
        by_name = {tag.name: tag for tag in tags}
        link_tags(contact, [by_name[name] for name in plan.tags_added])
    kind = Activity.Kind.CREATED if plan.creating else Activity.Kind.UPDATED
    return _record(actor, contact, kind, plan.activity or {})


def _record(actor: Actor, contact: Contact, kind: str, changes: dict[str, Any]) -> Activity:
    entry = actor.activity(contact=contact, kind=kind, changes=changes)
    entry.save(force_insert=True)
    return entry


def _unique_clash(contact: Contact) -> DuplicateContact | None:
    """Which unique value of ``contact`` another contact already has, if any."""
    others = Contact.objects.exclude(pk=contact.pk)
    if contact.phone and (other := others.filter(phone=contact.phone).first()):
        return DuplicateContact(
            f"a contact with phone {contact.phone} already exists", field="phone", existing=other
        )
    if contact.user_id and (other := others.filter(user_id=contact.user_id).first()):
        return DuplicateContact(
            f'a contact with user id "{contact.user_id}" already exists',
            field="user_id",
            existing=other,
        )
    return None


def _alias_clash(contact: Contact) -> DuplicateContact | None:
    """A phone or user id that a merge made an alias of another contact: writing it here
    would bring the merged duplicate back."""
    named = Q(kind=ContactAlias.Kind.PHONE, value=contact.phone or "")
    named |= Q(kind=ContactAlias.Kind.USER_ID, value=contact.user_id or "")
    alias = ContactAlias.objects.filter(named).exclude(contact_id=contact.pk).first()
    if alias is not None:
        return DuplicateContact(
            f"{alias.get_kind_display().lower()} {alias.value} belongs to contact "
            f"{alias.contact_id} since a merge",
            field=alias.kind,
            existing=Contact(pk=alias.contact_id),
        )
    return None


def contact_create(
    *,
    actor: Actor,
    phone_number: str | None = None,
    country_code: str | None = None,
    user_id: str | None = None,
    values: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    registry: FieldRegistry | None = None,
) -> Contact:
    """Create a contact; refuses a phone or user id that already belongs to a contact."""
    registry = registry or field_registry()
    errors: list[FieldError] = []
    phone = phone_or_error(phone_number, country_code, errors)
    user_id = (user_id or "").strip() or None
    if phone is None and user_id is None and not errors:
        errors.append(
            FieldError("phone_number", "Phone number", "a phone number or a user id is required")
        )
    planned = plan_values(values or {}, registry=registry, create_attributes=False, errors=errors)
    tag_names = clean_tag_names([*tags, *planned.tags], errors)
    if errors:
        raise ContactInputError(errors)
    with transaction.atomic():
        attributes_ensure(planned, actor)
        tag_rows = tags_get_or_create(names=tag_names)
        plan = plan_change(
            None,
            planned,
            tags=tags_by_key(tag_rows),
            phone=phone,
            user_id=user_id,
            opt_in=actor.opt_in(),
        )
        contact = Contact()
        assign_plan(contact, plan)
        if clash := _unique_clash(contact) or _alias_clash(contact):
            raise clash
        try:
            with transaction.atomic():
                store_plan(actor, contact, plan, tag_rows)
        except IntegrityError:
            if clash := _unique_clash(contact):
                raise clash from None
            raise
    return contact


_NOT_GIVEN: Any = object()


def contact_update(
    *,
    actor: Actor,
    contact_id: int,
    values: Mapping[str, Any],
    expected_version: int | None = None,
    expected_values: Mapping[str, Any] | None = None,
    registry: FieldRegistry | None = None,
) -> Contact:
    """Change fields of one contact by field key; ``None`` clears.

    Concurrent edits are refused with :class:`VersionConflict`: pass ``expected_values``
    (the stored values the editor showed, by key) to refuse only when those fields changed,
    or ``expected_version`` to refuse when anything changed.
    """
    registry = registry or field_registry()
    errors: list[FieldError] = []
    unknown = [k for k in values if k not in registry]
    errors.extend(FieldError(k, k, "no such field") for k in unknown)
    planned = plan_values(
        {k: v for k, v in values.items() if k not in unknown},
        registry=registry,
        create_attributes=False,
        errors=errors,
    )
    if planned.tags:
        errors.append(FieldError(TAGS, "Tags", "use the tag editor to change tags"))
    if errors:
        raise ContactInputError(errors)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        _refuse_concurrent_edit(contact, values, expected_version, expected_values, registry)
        plan = plan_change(current_values(contact), planned, opt_in=actor.opt_in())
        if not plan.changed:
            return contact
        assign_plan(contact, plan)
        if not contact.phone and not contact.user_id:
            # The contact page's pencil could otherwise clear the only id a contact has.
            raise ContactInputError(
                [FieldError("user_id", "User id", "a contact without a phone needs a user id")]
            )
        if clash := _unique_clash(contact):
            raise clash
        if {"phone", "user_id"} & set(plan.columns) and (clash := _alias_clash(contact)):
            raise clash
        store_plan(actor, contact, plan, ())
    return contact


def _refuse_concurrent_edit(
    contact: Contact,
    values: Mapping[str, Any],
    expected_version: int | None,
    expected_values: Mapping[str, Any] | None,
    registry: FieldRegistry,
) -> None:
    for key, shown in (expected_values or {}).items():
        target = registry[key]
        current = target.get(contact)
        if _normalized(target, current) != _normalized(target, shown):
            raise VersionConflict(field=target, current_value=current, contact=contact)
    if expected_version is not None and contact.version != expected_version:
        target = registry[next(iter(values), "name")]
        raise VersionConflict(field=target, current_value=target.get(contact), contact=contact)


def _normalized(target: Field, value: Any) -> Any:
    try:
        return target.parse(value)
    except CoercionError:
        return value


def contact_field_update(
    *,
    actor: Actor,
    contact_id: int,
    field_key: str,
    value: Any,
    expected_value: Any = _NOT_GIVEN,
    registry: FieldRegistry | None = None,
) -> Contact:
    """The pencil editor's save: one field, refused if it changed since the editor opened."""
    expected = {} if expected_value is _NOT_GIVEN else {field_key: expected_value}
    return contact_update(
        actor=actor,
        contact_id=contact_id,
        values={field_key: value},
        expected_values=expected,
        registry=registry,
    )


def contact_tags_add(*, actor: Actor, contact_id: int, names: Iterable[str]) -> list[str]:
    """Add tags (case-insensitive; existing ones are kept as they are). Returns names added."""
    errors: list[FieldError] = []
    cleaned = clean_tag_names(names, errors)
    if errors:
        raise ContactInputError(errors)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        tag_rows = tags_get_or_create(names=cleaned)
        plan = plan_change(
            current_values(contact),
            NO_VALUES,
            tags=tags_by_key(tag_rows),
            current_tag_keys=contact_tag_keys(contact.pk) if tag_rows else (),
        )
        if plan.changed:
            store_plan(actor, contact, plan, tag_rows)
    return list(plan.tags_added)


def contact_tags_remove(*, actor: Actor, contact_id: int, names: Iterable[str]) -> list[str]:
    """Remove tags by name, in any case (staff only: the API and CSV never remove tags)."""
    keys = {tag_key(n) for n in names if isinstance(n, str)}
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        links = ContactTag.objects.filter(contact=contact, tag__name_key__in=keys)
        removed = list(links.values_list("tag__name", flat=True))
        if removed:
            links.delete()
            contact.version += 1
            contact.updated_at = timezone.now()
            contact.save(update_fields=["version", "updated_at"])
            _record(actor, contact, Activity.Kind.UPDATED, tags_removed_entry(removed))
    return removed


def contacts_delete(*, actor: Actor, contacts: QuerySet[Contact]) -> int:
    """Delete contacts (Managers only; the view checks). Returns how many were deleted."""
    with transaction.atomic():
        ids = list(contacts.values_list("pk", flat=True))
        for start in range(0, len(ids), 5000):
            Contact.objects.filter(pk__in=ids[start : start + 5000]).delete()
    logger.info("%s contacts deleted by %s via %s", len(ids), actor.user, actor.source)
    return len(ids)


def contact_event_record(
    *, actor: Actor, contact_id: int, event: str, traits: Mapping[str, Any] | None = None
) -> Activity:
    """Record a named event on a contact's timeline; events never replace each other."""
    event = " ".join((event or "").split())
    if not event:
        raise ContactInputError([FieldError("event", "event", "is required")])
    with transaction.atomic():
        contact = Contact.objects.get(pk=contact_id)
        return _record(
            actor, contact, Activity.Kind.EVENT, {"event": event, "traits": dict(traits or {})}
        )

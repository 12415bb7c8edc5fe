"""Writes to one contact: create, upsert (match, merge), update, tags, delete, events.

Each function is all-or-nothing (one transaction), checks its input through the field
registry, records one ``Activity`` per contact it changes, and records nothing when nothing
changed. See DESIGN.md, "Rules every entry point obeys".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts import kinds
from contacts.fields import TAGS, Field, FieldRegistry, field_registry
from contacts.kinds import CoercionError
from contacts.models import Activity, Contact, ContactTag
from contacts.phones import Phone
from contacts.services.actor import Actor
from contacts.services.attributes import attributes_get_or_create
from contacts.services.errors import (
    ContactConflict,
    ContactInputError,
    DuplicateContact,
    FieldError,
    VersionConflict,
)
from contacts.services.planning import PlannedValues, phone_or_error, plan_values
from contacts.services.tags import clean_tag_names, link_tags, tags_get_or_create

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class UpsertResult:
    contact: Contact
    created: bool
    changed: bool
    activity: Activity | None = None


def _apply(
    contact: Contact,
    planned: PlannedValues,
    *,
    registry: FieldRegistry,
    actor: Actor,
    errors: list[FieldError],
) -> dict[str, list[Any]]:
    """Set planned values on ``contact`` (in memory) and return ``{key: [old, new]}``."""
    changes: dict[str, list[Any]] = {}
    if planned.new_attributes:
        created = attributes_get_or_create(planned.new_attributes, actor)
        for key, attribute in created.items():
            if attribute.type != planned.new_attributes[key][1]:
                # Someone created it with another type meanwhile: check against that type.
                try:
                    planned.traits[key] = kinds.kind_for(attribute.type).parse(
                        planned.traits[key], label=attribute.label
                    )
                except CoercionError as exc:
                    errors.append(FieldError(key, attribute.label, exc.problem))
    for key, new in planned.builtin.items():
        old = getattr(contact, key)
        if old != new:
            setattr(contact, key, new)
            changes[key] = [old, new]
    traits = dict(contact.traits or {})
    for key, new in planned.traits.items():
        old = traits.get(key)
        if new is None:
            if key in traits:
                del traits[key]
                changes[key] = [old, None]
        elif old != new or type(old) is not type(new):
            traits[key] = new
            changes[key] = [old, new]
    contact.traits = traits
    return changes


def _save(contact: Contact, *, creating: bool) -> None:
    now = timezone.now()
    contact.updated_at = now
    if creating:
        contact.created_at = now
        contact.save(force_insert=True)
    else:
        contact.version += 1
        contact.save()


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
    contact = Contact(user_id=user_id)
    if phone is not None:
        contact.phone, contact.country_code = phone.e164, phone.country_code
        contact.phone_number = phone.national_number
    with transaction.atomic():
        changes = _apply(contact, planned, registry=registry, actor=actor, errors=errors)
        if errors:
            raise ContactInputError(errors)
        if clash := _unique_clash(contact):
            raise clash
        try:
            with transaction.atomic():
                _save(contact, creating=True)
        except IntegrityError:
            if clash := _unique_clash(contact):
                raise clash from None
            raise
        added = link_tags(contact, tags_get_or_create(names=tag_names), new_contact=True)
        _record(actor, contact, Activity.Kind.CREATED, _created_changes(contact, changes, added))
    return contact


def _created_changes(
    contact: Contact, changes: dict[str, list[Any]], tags_added: list[str]
) -> dict[str, Any]:
    fields = {
        k: [None, v] for k, v in (("phone", contact.phone), ("user_id", contact.user_id)) if v
    }
    fields.update({k: [None, new] for k, (_, new) in changes.items() if new not in ("", None)})
    result: dict[str, Any] = {"fields": fields}
    if tags_added:
        result["tags_added"] = tags_added
    return result


def _record(actor: Actor, contact: Contact, kind: str, changes: dict[str, Any]) -> Activity:
    entry = actor.activity(contact=contact, kind=kind, changes=changes)
    entry.save(force_insert=True)
    return entry


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
    registry = registry or field_registry()
    errors: list[FieldError] = []
    phone = phone_or_error(phone_number, country_code, errors)
    user_id = None if user_id is None else str(user_id).strip() or None
    if phone is None and user_id is None and not errors:
        errors.append(FieldError("user_id", "User id", "a user id or a phone number is required"))
    planned = plan_values(
        values or {}, registry=registry, create_attributes=create_attributes, errors=errors
    )
    if "user_id" in planned.builtin:
        errors.append(
            FieldError("user_id", "User id", "is the contact's identity, not a value to set")
        )
    tag_names = clean_tag_names([*tags, *planned.tags], errors)
    if errors:
        raise ContactInputError(errors)

    for attempt in range(3):
        try:
            with transaction.atomic():
                return _upsert_locked(actor, user_id, phone, planned, tag_names, registry)
        except IntegrityError:
            # Another request created the same contact (or tag link) between our lookup and
            # insert; its row is committed now, so the next attempt finds and updates it.
            if attempt == 2:
                raise
            logger.info("upsert retried after a concurrent insert (phone=%s)", phone)
    raise AssertionError("unreachable")


def _upsert_locked(
    actor: Actor,
    user_id: str | None,
    phone: Phone | None,
    planned: PlannedValues,
    tag_names: list[str],
    registry: FieldRegistry,
) -> UpsertResult:
    locked = Contact.objects.select_for_update()
    by_user = locked.filter(user_id=user_id).first() if user_id else None
    by_phone = locked.filter(phone=phone.e164).first() if phone else None
    if by_user and by_phone and by_user.pk != by_phone.pk:
        raise ContactConflict(
            f'user id "{user_id}" belongs to one contact and phone {phone.e164} to another; '
            "nothing was changed",
            field="user_id",
        )
    contact = by_user or by_phone
    creating = contact is None
    errors: list[FieldError] = []
    identity: dict[str, list[Any]] = {}
    if creating:
        contact = Contact(user_id=user_id)
        if phone:
            contact.phone, contact.country_code = phone.e164, phone.country_code
            contact.phone_number = phone.national_number
    else:
        if phone and contact.phone and contact.phone != phone.e164:
            raise ContactConflict(
                f'user id "{user_id}" belongs to the contact with phone {contact.phone}; a '
                "contact's phone number is never changed",
                field="phone_number",
            )
        if user_id and contact.user_id and contact.user_id != user_id:
            raise ContactConflict(
                f'phone {contact.phone} belongs to the contact with user id "{contact.user_id}"',
                field="user_id",
            )
        if phone and not contact.phone:
            identity["phone"] = [None, phone.e164]
            contact.phone, contact.country_code = phone.e164, phone.country_code
            contact.phone_number = phone.national_number
        if user_id and not contact.user_id:
            identity["user_id"] = [None, user_id]
            contact.user_id = user_id
    changes = _apply(contact, planned, registry=registry, actor=actor, errors=errors)
    if errors:
        raise ContactInputError(errors)
    changes = {**identity, **changes}
    if creating or changes:
        # No savepoint: an IntegrityError here rolls back the caller's transaction, which
        # contact_upsert retries as a whole.
        _save(contact, creating=creating)
    added = link_tags(contact, tags_get_or_create(names=tag_names), new_contact=creating)
    if creating:
        activity = _record(
            actor, contact, Activity.Kind.CREATED, _created_changes(contact, changes, added)
        )
        return UpsertResult(contact, created=True, changed=True, activity=activity)
    if not changes and not added:
        return UpsertResult(contact, created=False, changed=False)
    if added and not changes:
        _touch(contact)
    entry: dict[str, Any] = {"fields": changes}
    if added:
        entry["tags_added"] = added
    activity = _record(actor, contact, Activity.Kind.UPDATED, entry)
    return UpsertResult(contact, created=False, changed=True, activity=activity)


def _touch(contact: Contact) -> None:
    """Bump version and updated time after a change that lives outside the contact row."""
    contact.version += 1
    contact.updated_at = timezone.now()
    contact.save(update_fields=["version", "updated_at"])


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
        for key, shown in (expected_values or {}).items():
            target = registry[key]
            current = target.get(contact)
            if _normalized(target, current) != _normalized(target, shown):
                raise VersionConflict(field=target, current_value=current, contact=contact)
        if expected_version is not None and contact.version != expected_version:
            key = next(iter(values), "name")
            target = registry[key]
            raise VersionConflict(field=target, current_value=target.get(contact), contact=contact)
        changes = _apply(contact, planned, registry=registry, actor=actor, errors=errors)
        if errors:
            raise ContactInputError(errors)
        if not changes:
            return contact
        if not contact.phone and not contact.user_id:
            # The contact page's pencil could otherwise clear the only id a contact has.
            raise ContactInputError(
                [FieldError("user_id", "User id", "a contact without a phone needs a user id")]
            )
        if clash := _unique_clash(contact):
            raise clash
        _save(contact, creating=False)
        _record(actor, contact, Activity.Kind.UPDATED, {"fields": changes})
    return contact


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
        added = link_tags(contact, tags_get_or_create(names=cleaned))
        if added:
            _touch(contact)
            _record(actor, contact, Activity.Kind.UPDATED, {"fields": {}, "tags_added": added})
    return added


def contact_tags_remove(*, actor: Actor, contact_id: int, names: Iterable[str]) -> list[str]:
    """Remove tags by name, in any case (staff only: the API and CSV never remove tags)."""
    keys = {" ".join(n.split()).casefold() for n in names if isinstance(n, str)}
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        links = ContactTag.objects.filter(contact=contact, tag__name_key__in=keys)
        removed = list(links.values_list("tag__name", flat=True))
        if removed:
            links.delete()
            _touch(contact)
            _record(actor, contact, Activity.Kind.UPDATED, {"fields": {}, "tags_removed": removed})
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

"""Every write to contacts, tags, attributes and the activity log.

Web views, the admin, the bulk upload task and the public API call these functions and
nothing else writes those models. Each function is all-or-nothing (one transaction), checks
its input with the field registry and ``contacts.kinds``, records one ``Activity`` per
contact it changes, and records nothing when nothing changed. See DESIGN.md, "Rules every
entry point obeys".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts import kinds
from contacts.fields import TAGS, Field, FieldRegistry, attribute_key_for, field_registry
from contacts.kinds import CoercionError
from contacts.models import (
    Activity,
    ApiKey,
    Attribute,
    BulkAction,
    Contact,
    ContactTag,
    Source,
    Tag,
)
from contacts.phones import Phone, PhoneError, normalize_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

MAX_TAG_LENGTH = 100
MAX_FIELD_NAME_LENGTH = 100


# --- Who is writing -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change and through which door; recorded on every activity entry."""

    source: str
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    upload_job_id: int | None = None

    @classmethod
    def web(cls, user: AbstractBaseUser) -> Actor:
        return cls(source=Source.WEB, user=user)

    @classmethod
    def admin(cls, user: AbstractBaseUser) -> Actor:
        return cls(source=Source.ADMIN, user=user)

    @classmethod
    def api(cls, api_key: ApiKey) -> Actor:
        return cls(source=Source.API, api_key=api_key)

    @classmethod
    def upload(cls, *, user: AbstractBaseUser | None, upload_job_id: int) -> Actor:
        return cls(source=Source.UPLOAD, user=user, upload_job_id=upload_job_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(source=Source.SYSTEM)

    def activity(self, *, contact: Contact, kind: str, changes: dict[str, Any]) -> Activity:
        """An unsaved activity entry by this actor (saved by the caller, often in bulk)."""
        user = self.user if self.user is not None and self.user.is_authenticated else None
        return Activity(
            contact=contact,
            kind=kind,
            source=self.source,
            actor_user=user,
            actor_api_key=self.api_key,
            upload_job_id=self.upload_job_id,
            changes=changes,
        )


# --- Errors ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # the field's key, or the name the caller used for an unknown field
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"


class ServiceError(Exception):
    """A write that was refused; nothing was changed."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ContactInputError(ServiceError):
    """One or more values that do not fit their fields."""

    code = "validation_error"

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors), field=self.errors[0].field)


class ContactConflict(ServiceError):
    """The user id and the phone point at different contacts (or a phone would change)."""

    code = "conflict"


class DuplicateContact(ServiceError):
    """A new contact whose phone or user id belongs to an existing contact."""

    code = "duplicate"

    def __init__(self, message: str, *, field: str, existing: Contact) -> None:
        super().__init__(message, field=field)
        self.existing = existing


class VersionConflict(ServiceError):
    """Someone else changed the field since the editor was opened."""

    code = "version_conflict"

    def __init__(self, *, field: Field, current_value: Any, contact: Contact) -> None:
        super().__init__(
            f"{field.label} was changed by someone else in the meantime; "
            f'it is now "{field.display(current_value)}"',
            field=field.key,
        )
        self.current_value = current_value
        self.contact = contact


@dataclass(slots=True)
class UpsertResult:
    contact: Contact
    created: bool
    changed: bool
    activity: Activity | None = None


# --- Input checking (pure: no writes) -------------------------------------------------------
@dataclass(slots=True)
class _PlannedValues:
    builtin: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)  # None clears the trait
    new_attributes: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> label, type
    tags: list[str] = field(default_factory=list)


IDENTITY_KEYS = frozenset({"phone", "country_code"})


def _plan_values(
    values: Mapping[str, Any],
    *,
    registry: FieldRegistry,
    create_attributes: bool,
    errors: list[FieldError],
    list_separator: str = kinds.DEFAULT_LIST_SEPARATOR,
) -> _PlannedValues:
    """Resolve names to fields and coerce values; problems are appended to ``errors``."""
    planned = _PlannedValues()
    for name, raw in values.items():
        target = registry.resolve(name)
        if target is None:
            if not create_attributes:
                errors.append(FieldError(name, name, "no such field"))
                continue
            if raw is None:
                continue  # clearing a trait nobody has is a no-op
            label = " ".join(name.split())
            if not label:
                errors.append(FieldError(name, name, "a field name cannot be empty"))
                continue
            if len(label) > MAX_FIELD_NAME_LENGTH:
                errors.append(
                    FieldError(
                        name[:40],
                        label[:40] + "...",
                        f"a field name is at most {MAX_FIELD_NAME_LENGTH} characters",
                    )
                )
                continue
            field_type = kinds.infer(raw)
            key = _free_attribute_key(attribute_key_for(label), registry, planned)
            target = Field(key=key, label=label, type=field_type, builtin=False)
            planned.new_attributes[key] = (label, field_type)
        if target.key == TAGS:
            try:
                planned.tags.extend(target.parse(raw, list_separator=list_separator) or [])
            except CoercionError as exc:
                errors.append(FieldError(target.key, target.label, exc.problem))
            continue
        if target.builtin and not target.editable:
            errors.append(FieldError(target.key, target.label, "cannot be changed"))
            continue
        try:
            value = target.parse(raw, list_separator=list_separator)
        except CoercionError as exc:
            errors.append(FieldError(target.key, target.label, exc.problem))
            continue
        if target.builtin:
            planned.builtin[target.key] = value
        else:
            planned.traits[target.key] = value
    return planned


def _free_attribute_key(key: str, registry: FieldRegistry, planned: _PlannedValues) -> str:
    """``key``, or ``key_2``, ``key_3``... if another field already uses it under another name.

    (A new name that means an existing field was resolved to it before we get here.)
    """
    base, n = key, 2
    while key in registry or (key in planned.new_attributes):
        key, n = f"{base[:95]}_{n}", n + 1
    return key


def _clean_tag_names(names: Iterable[str], errors: list[FieldError]) -> list[str]:
    """Trimmed, de-duplicated case-insensitively, in the order given."""
    cleaned: dict[str, str] = {}
    for raw in names:
        if not isinstance(raw, str):
            errors.append(FieldError(TAGS, "Tags", f"{raw!r} is not text"))
            continue
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            errors.append(
                FieldError(TAGS, "Tags", f'"{name[:30]}..." is longer than {MAX_TAG_LENGTH}')
            )
            continue
        cleaned.setdefault(name.casefold(), name)
    return list(cleaned.values())


def _phone_or_error(
    phone_number: str | None, country_code: str | None, errors: list[FieldError]
) -> Phone | None:
    if phone_number is None or str(phone_number).strip() == "":
        if country_code not in (None, ""):
            errors.append(
                FieldError("phone_number", "Phone number", "is required with a country code")
            )
        return None
    try:
        return normalize_phone(phone_number, country_code)
    except PhoneError as exc:
        label = "Country code" if exc.field == "country_code" else "Phone number"
        errors.append(FieldError(exc.field, label, str(exc)))
        return None


def contact_values_errors(
    *, values: Mapping[str, Any], registry: FieldRegistry | None = None
) -> list[FieldError]:
    """What is wrong with ``values`` for an existing contact, without writing anything.

    Forms call this in ``clean()`` so that they can show errors next to their fields.
    """
    errors: list[FieldError] = []
    _plan_values(
        values, registry=registry or field_registry(), create_attributes=False, errors=errors
    )
    return errors


# --- Tags and attributes --------------------------------------------------------------------
def tags_get_or_create(*, names: Iterable[str]) -> list[Tag]:
    """The tags with these names (case-insensitive), creating the missing ones.

    Safe under concurrency: creation uses INSERT ... ON CONFLICT DO NOTHING, then reads back.
    """
    errors: list[FieldError] = []
    cleaned = _clean_tag_names(names, errors)
    if errors:
        raise ContactInputError(errors)
    if not cleaned:
        return []
    by_key = {name.casefold(): name for name in cleaned}
    existing = {t.name_key: t for t in Tag.objects.filter(name_key__in=by_key)}
    missing = [Tag(name=name, name_key=key) for key, name in by_key.items() if key not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name_key: t for t in Tag.objects.filter(name_key__in=by_key)}
    return [existing[key] for key in by_key]


def tag_create(*, name: str, is_default: bool = False) -> Tag:
    """Create a tag, or return the existing one with the same name in any case."""
    errors: list[FieldError] = []
    cleaned = _clean_tag_names([name], errors)
    if errors or not cleaned:
        raise ContactInputError(errors or [FieldError(TAGS, "Tag", "a tag name cannot be empty")])
    with transaction.atomic():
        (tag,) = tags_get_or_create(names=cleaned)
        if is_default and not tag.is_default:
            tag.is_default = True
            tag.save(update_fields=["is_default"])
    return tag


def tag_update(*, tag_id: int, name: str | None = None, is_default: bool | None = None) -> Tag:
    """Rename a tag or mark it as default; refuses a name another tag has in any case."""
    with transaction.atomic():
        tag = Tag.objects.select_for_update().get(pk=tag_id)
        if name is not None:
            errors: list[FieldError] = []
            cleaned = _clean_tag_names([name], errors)
            if errors or not cleaned:
                raise ContactInputError(errors or [FieldError("name", "Name", "is required")])
            key = cleaned[0].casefold()
            if Tag.objects.filter(name_key=key).exclude(pk=tag.pk).exists():
                raise ContactInputError(
                    [FieldError("name", "Name", f'a tag "{cleaned[0]}" already exists')]
                )
            tag.name, tag.name_key = cleaned[0], key
        if is_default is not None:
            tag.is_default = is_default
        tag.save()
    return tag


def attribute_update(*, attribute_id: int, label: str) -> Attribute:
    """Rename a custom field. Its key and type never change: stored values depend on them."""
    label = " ".join((label or "").split())
    if not label:
        raise ContactInputError([FieldError("label", "Label", "is required")])
    with transaction.atomic():
        attribute = Attribute.objects.select_for_update().get(pk=attribute_id)
        existing = field_registry().resolve(label)
        if existing is not None and existing.attribute_id != attribute.pk:
            raise ContactInputError(
                [FieldError("label", "Label", f'a field called "{existing.label}" already exists')]
            )
        attribute.label = label
        attribute.save(update_fields=["label"])
    return attribute


def attribute_create(
    *,
    label: str,
    type: str,
    key: str | None = None,
    created_by: AbstractBaseUser | None = None,
) -> Attribute:
    """Create a custom field. Refuses a label or key that an existing field already uses."""
    label = " ".join((label or "").split())
    if not label:
        raise ContactInputError([FieldError("label", "Label", "is required")])
    if not kinds.is_field_type(type):
        raise ContactInputError([FieldError("type", "Type", f'"{type}" is not a field type')])
    registry = field_registry()
    if (existing := registry.resolve(label)) is not None:
        raise ContactInputError(
            [FieldError("label", "Label", f'a field called "{existing.label}" already exists')]
        )
    key = attribute_key_for(key or label)
    base, n = key, 2
    while key in registry:
        key, n = f"{base}_{n}", n + 1
    user = created_by if created_by is not None and created_by.is_authenticated else None
    try:
        with transaction.atomic():
            return Attribute.objects.create(key=key, label=label, type=type, created_by=user)
    except IntegrityError:
        raise ContactInputError(
            [FieldError("label", "Label", "a field with this name was just created")]
        ) from None


def _ensure_attributes(
    new_attributes: Mapping[str, tuple[str, str]], actor: Actor
) -> dict[str, Attribute]:
    """Get or create attributes seen for the first time (race-safe)."""
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    result = {}
    for key, (label, field_type) in new_attributes.items():
        attribute, _ = Attribute.objects.get_or_create(
            key=key, defaults={"label": label, "type": field_type, "created_by": user}
        )
        result[key] = attribute
    return result


# --- Contacts -------------------------------------------------------------------------------
def _apply(
    contact: Contact,
    planned: _PlannedValues,
    *,
    registry: FieldRegistry,
    actor: Actor,
    errors: list[FieldError],
) -> dict[str, list[Any]]:
    """Set planned values on ``contact`` (in memory) and return ``{key: [old, new]}``."""
    changes: dict[str, list[Any]] = {}
    if planned.new_attributes:
        created = _ensure_attributes(planned.new_attributes, actor)
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


def _add_tags(contact: Contact, tags: Sequence[Tag], *, new_contact: bool = False) -> list[str]:
    """Link tags not yet on the (locked) contact; returns the names added."""
    if not tags:
        return []
    have: set[int] = set()
    if not new_contact:
        have = set(ContactTag.objects.filter(contact=contact).values_list("tag_id", flat=True))
    new = [t for t in tags if t.pk not in have]
    ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag=t) for t in new], ignore_conflicts=True
    )
    return [t.name for t in new]


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
    phone = _phone_or_error(phone_number, country_code, errors)
    user_id = (user_id or "").strip() or None
    if phone is None and user_id is None and not errors:
        errors.append(
            FieldError("phone_number", "Phone number", "a phone number or a user id is required")
        )
    planned = _plan_values(values or {}, registry=registry, create_attributes=False, errors=errors)
    tag_names = _clean_tag_names([*tags, *planned.tags], errors)
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
        added = _add_tags(contact, tags_get_or_create(names=tag_names), new_contact=True)
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
    phone = _phone_or_error(phone_number, country_code, errors)
    user_id = None if user_id is None else str(user_id).strip() or None
    if phone is None and user_id is None and not errors:
        errors.append(
            FieldError("userId", "userId", "userId or phoneNumber with countryCode is required")
        )
    planned = _plan_values(
        values or {}, registry=registry, create_attributes=create_attributes, errors=errors
    )
    if "user_id" in planned.builtin:
        errors.append(
            FieldError("user_id", "User id", "give the user id as userId, not as a trait")
        )
    tag_names = _clean_tag_names([*tags, *planned.tags], errors)
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
    planned: _PlannedValues,
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
            field="userId",
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
                field="phoneNumber",
            )
        if user_id and contact.user_id and contact.user_id != user_id:
            raise ContactConflict(
                f'phone {contact.phone} belongs to the contact with user id "{contact.user_id}"',
                field="userId",
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
    added = _add_tags(contact, tags_get_or_create(names=tag_names), new_contact=creating)
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
    planned = _plan_values(
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
    cleaned = _clean_tag_names(names, errors)
    if errors:
        raise ContactInputError(errors)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact_id)
        added = _add_tags(contact, tags_get_or_create(names=cleaned))
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


# --- Bulk import ----------------------------------------------------------------------------
# The bulk upload task calls contacts_import_batch() once per batch of CSV rows. It applies
# the same rules as contact_upsert() (match by phone, merge traits, add-only tags, one activity
# per changed contact) with a fixed number of set-based queries per batch.
IMPORT_CREATED = "created"
IMPORT_UPDATED = "updated"
IMPORT_UNCHANGED = "unchanged"
_IMPORT_COLUMNS = ("name", "email", "whatsapp_opted")
_IMPORT_CONTACT_INSERT = (
    *("phone", "country_code", "phone_number", *_IMPORT_COLUMNS, "traits"),
    *("created_at", "updated_at", "version"),
)
_IMPORT_ACTIVITY_INSERT = (
    *("contact_id", "created_at", "kind", "source", "actor_user_id", "actor_api_key_id"),
    *("upload_job_id", "changes"),
)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row ready to store; values already coerced through the field registry."""

    phone: Phone
    builtin: Mapping[str, Any] = field(default_factory=dict)  # name, email, whatsapp_opted
    traits: Mapping[str, Any] = field(default_factory=dict)  # by attribute key; no None
    tags: Sequence[str] = ()


def contacts_import_batch(
    *, actor: Actor, rows: Sequence[ImportRow], tags: Sequence[Tag] = ()
) -> list[str]:
    """Create or update the contacts of ``rows`` (matched by phone); one outcome per row.

    Each outcome is ``IMPORT_CREATED``, ``IMPORT_UPDATED`` or ``IMPORT_UNCHANGED``. ``tags``
    are added to every row's contact, with each row's own ``tags``. Runs in one transaction
    (a savepoint inside the caller's, so the caller can commit its progress with the batch).
    Existing rows are locked in phone order, so a concurrent ``contact_upsert`` waits and then
    merges on top; a contact inserted by someone else between the lookup and the insert makes
    the insert fail, and the batch is retried, finding it this time.
    """
    if not rows:
        return []
    phones = [row.phone.e164 for row in rows]
    if len(set(phones)) != len(phones):
        raise ValueError("a batch must not hold the same phone twice")
    unwritten = set().union(*(row.builtin for row in rows)).difference(_IMPORT_COLUMNS)
    if unwritten:  # they would be logged as changes and never stored
        raise ValueError(f"an import cannot set {', '.join(sorted(unwritten))}")
    errors: list[FieldError] = []
    row_tag_names = _clean_tag_names([name for row in rows for name in row.tags], errors)
    if errors:
        raise ContactInputError(errors)
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _import_batch_locked(actor, rows, phones, list(tags), row_tag_names)
        except IntegrityError:
            if attempt == 2:
                raise
            logger.info("import batch retried after a concurrent insert")
    raise AssertionError("unreachable")


def _import_batch_locked(
    actor: Actor,
    rows: Sequence[ImportRow],
    phones: list[str],
    common_tags: list[Tag],
    row_tag_names: list[str],
) -> list[str]:
    from django.db import connection

    tag_by_key = {tag.name_key: tag for tag in common_tags}
    if row_tag_names:
        for tag in tags_get_or_create(names=row_tag_names):
            tag_by_key.setdefault(tag.name_key, tag)
    # Rows of (id, phone, name, email, whatsapp_opted, traits, version).
    columns = ("id", "phone", *_IMPORT_COLUMNS, "traits", "version")
    position = {name: index for index, name in enumerate(columns)}
    existing = {
        values[1]: values
        for values in Contact.objects.select_for_update()
        .filter(phone__in=phones)
        .order_by("phone")
        .values_list(*columns)
    }
    linked: set[tuple[int, int]] = set()
    if existing and tag_by_key:
        linked = set(
            ContactTag.objects.filter(
                contact_id__in=[values[0] for values in existing.values()],
                tag_id__in=[t.pk for t in tag_by_key.values()],
            ).values_list("contact_id", "tag_id")
        )
    ops = connection.ops
    adapt_json = ops.adapt_json_value
    now = timezone.now()
    db_now = ops.adapt_datetimefield_value(now)
    outcomes: list[str] = []
    new_rows: list[tuple[ImportRow, list[Tag]]] = []
    updates: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    activities: list[tuple[int, str, dict[str, Any]]] = []
    updated_kind = Activity.Kind.UPDATED
    tags_for: dict[tuple[str, ...], tuple[list[Tag], list[tuple[int, Tag]]]] = {}
    for row in rows:
        names = tuple(row.tags)
        cached = tags_for.get(names)
        if cached is None:
            row_tags = list(common_tags)
            for name in names:
                tag = tag_by_key[" ".join(name.split()).casefold()]
                if tag not in row_tags:
                    row_tags.append(tag)
            cached = tags_for[names] = (row_tags, [(tag.pk, tag) for tag in row_tags])
        row_tags, tag_ids = cached
        found = existing.get(row.phone.e164)
        if found is None:
            new_rows.append((row, row_tags))
            outcomes.append(IMPORT_CREATED)
            continue
        values = list(found)
        changes: dict[str, list[Any]] = {}
        for key, new in row.builtin.items():
            index = position[key]
            old = values[index]
            if old != new:
                values[index] = new
                changes[key] = [old, new]
        traits = values[5] if isinstance(values[5], dict) else {}
        for key, new in row.traits.items():
            old = traits.get(key)
            if key not in traits or old != new or type(old) is not type(new):
                traits[key] = new
                changes[key] = [old, new]
        contact_id = values[0]
        added = [tag for tag_id, tag in tag_ids if (contact_id, tag_id) not in linked]
        if not changes and not added:
            outcomes.append(IMPORT_UNCHANGED)
            continue
        updates.append(
            (
                values[2],
                values[3],
                values[4],
                adapt_json(traits, None),
                values[6] + 1,
                db_now,
                contact_id,
            )
        )
        links.extend((contact_id, tag.pk) for tag in added)
        entry: dict[str, Any] = {"fields": changes}
        if added:
            entry["tags_added"] = [tag.name for tag in added]
        activities.append((contact_id, updated_kind, entry))
        outcomes.append(IMPORT_UPDATED)
    if new_rows:
        _execute_many(
            Contact,
            _IMPORT_CONTACT_INSERT,
            [
                (
                    row.phone.e164,
                    row.phone.country_code,
                    row.phone.national_number,
                    row.builtin.get("name", ""),
                    row.builtin.get("email", ""),
                    row.builtin.get("whatsapp_opted", False),
                    ops.adapt_json_value(dict(row.traits), None),
                    db_now,
                    db_now,
                    1,
                )
                for row, _ in new_rows
            ],
        )
        new_ids = dict(
            Contact.objects.filter(phone__in=[row.phone.e164 for row, _ in new_rows]).values_list(
                "phone", "id"
            )
        )
        for row, row_tags in new_rows:
            contact_id = new_ids[row.phone.e164]
            links.extend((contact_id, tag.pk) for tag in row_tags)
            fields = {"phone": [None, row.phone.e164]}
            fields.update({k: [None, v] for k, v in row.builtin.items() if v not in ("", None)})
            fields.update({k: [None, v] for k, v in row.traits.items()})
            entry = {"fields": fields}
            if row_tags:
                entry["tags_added"] = [tag.name for tag in row_tags]
            activities.append((contact_id, Activity.Kind.CREATED, entry))
    if updates:
        table = ops.quote_name(Contact._meta.db_table)
        columns = ", ".join(
            f"{ops.quote_name(c)} = %s"
            for c in (*_IMPORT_COLUMNS, "traits", "version", "updated_at")
        )
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {columns} WHERE id = %s", updates)
    if links:
        _execute_many(
            ContactTag,
            ("contact_id", "tag_id", "created_at"),
            [(contact_id, tag_id, db_now) for contact_id, tag_id in links],
            ignore_conflicts=True,
        )
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    _execute_many(
        Activity,
        _IMPORT_ACTIVITY_INSERT,
        [
            (
                contact_id,
                db_now,
                kind,
                actor.source,
                user.pk if user else None,
                actor.api_key.pk if actor.api_key else None,
                actor.upload_job_id,
                ops.adapt_json_value(entry, None),
            )
            for contact_id, kind, entry in activities
        ],
    )
    return outcomes


def _execute_many(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]], *, ignore_conflicts=False
) -> None:
    """INSERT prepared rows with one executemany.

    ``bulk_create`` builds and compiles a model instance per row, which costs more than the
    database's work at 500,000 rows; the values here are already adapted for the database.
    """
    if not rows:
        return
    from django.db import connection

    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(model._meta.get_field(c).column) for c in columns)
    values = ", ".join(["%s"] * len(columns))
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({values}){suffix}", rows)


# --- Bulk actions from the contact list ---
BULK_CHUNK = 2000


def _bulk_contact_ids(contacts: QuerySet[Contact] | Iterable[int]) -> list[int]:
    if isinstance(contacts, QuerySet):
        return list(contacts.order_by().values_list("pk", flat=True))
    return sorted({int(pk) for pk in contacts})


def _bulk_touch(contact_ids: Sequence[int], now: Any) -> None:
    from django.db.models import F

    Contact.objects.filter(pk__in=contact_ids).update(version=F("version") + 1, updated_at=now)


def contacts_tags_add_bulk(
    *, actor: Actor, contacts: QuerySet[Contact] | Iterable[int], names: Iterable[str]
) -> int:
    """Add tags to many contacts at once; returns how many contacts gained a tag.

    Set-based, a chunk of contacts at a time: one read of the links they already have, one
    multi-row INSERT of the missing links, one UPDATE of version/updated time and one
    multi-row INSERT of activity entries per chunk, all in one transaction.
    """
    tags = tags_get_or_create(names=names)
    if not tags:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        ids = _bulk_contact_ids(contacts)
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            locked = list(
                Contact.objects.select_for_update()
                .filter(pk__in=chunk)
                .values_list("pk", flat=True)
            )
            have = set(
                ContactTag.objects.filter(contact_id__in=locked, tag__in=tags).values_list(
                    "contact_id", "tag_id"
                )
            )
            added: dict[int, list[str]] = {}
            links = []
            for contact_id in locked:
                for tag in tags:
                    if (contact_id, tag.pk) not in have:
                        links.append(ContactTag(contact_id=contact_id, tag=tag, created_at=now))
                        added.setdefault(contact_id, []).append(tag.name)
            if not added:
                continue
            ContactTag.objects.bulk_create(links, ignore_conflicts=True, batch_size=BULK_CHUNK)
            _bulk_touch(list(added), now)
            Activity.objects.bulk_create(
                [
                    _bulk_activity(
                        actor, contact_id, {"fields": {}, "tags_added": added_names}, now
                    )
                    for contact_id, added_names in added.items()
                ],
                batch_size=BULK_CHUNK,
            )
            changed += len(added)
    logger.info("tags added to %s contacts by %s via %s", changed, actor.user, actor.source)
    return changed


def contacts_tags_remove_bulk(
    *, actor: Actor, contacts: QuerySet[Contact] | Iterable[int], names: Iterable[str]
) -> int:
    """Remove tags (by name, any case) from many contacts; returns how many lost a tag."""
    keys = {" ".join(n.split()).casefold() for n in names if isinstance(n, str) and n.strip()}
    if not keys:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    tags = list(Tag.objects.filter(name_key__in=keys))
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        ids = _bulk_contact_ids(contacts) if tags else []
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            list(Contact.objects.select_for_update().filter(pk__in=chunk).values_list("pk"))
            links = ContactTag.objects.filter(contact_id__in=chunk, tag__in=tags)
            removed: dict[int, list[str]] = {}
            for contact_id, tag_name in links.values_list("contact_id", "tag__name"):
                removed.setdefault(contact_id, []).append(tag_name)
            if not removed:
                continue
            links.delete()
            _bulk_touch(list(removed), now)
            Activity.objects.bulk_create(
                [
                    _bulk_activity(
                        actor, contact_id, {"fields": {}, "tags_removed": removed_names}, now
                    )
                    for contact_id, removed_names in removed.items()
                ],
                batch_size=BULK_CHUNK,
            )
            changed += len(removed)
    logger.info("tags removed from %s contacts by %s via %s", changed, actor.user, actor.source)
    return changed


# --- Bulk actions in the background ---
# Above CONTACTHUB_BULK_INLINE_LIMIT contacts, a bulk action from the list is not done in the
# request (on 500,000 contacts it takes minutes, past any web timeout) but by a background
# task, a chunk at a time, each chunk committing the contacts' changes with the progress.


def bulk_inline_limit() -> int:
    """The most contacts a bulk action from the list changes within the request."""
    return int(settings.CONTACTHUB_BULK_INLINE_LIMIT)


def bulk_action_start(
    *,
    actor: Actor,
    kind: str,
    contacts: QuerySet[Contact],
    names: Sequence[str] = (),
    return_url: str = "",
) -> BulkAction:
    """Fix the contacts of a bulk action now and queue it; tags are checked (and created) now."""
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if kind not in BulkAction.Kind.values:
        raise ServiceError(f"unknown bulk action {kind!r}", field="action")
    if kind != BulkAction.Kind.DELETE and not names:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    with transaction.atomic():
        if kind == BulkAction.Kind.TAGS_ADD:
            names = [tag.name for tag in tags_get_or_create(names=names)]
        ids = _bulk_contact_ids(contacts)
        action = BulkAction.objects.create(
            kind=kind,
            tag_names=names,
            contact_ids=ids,
            total=len(ids),
            created_by=actor.user,
            return_url=return_url if len(return_url) <= 2000 else "",
        )
        transaction.on_commit(lambda: _bulk_action_enqueue(action.pk))
    logger.info("bulk action %s (%s on %s contacts) queued", action.pk, kind, len(ids))
    return action


def _bulk_action_enqueue(action_id: int) -> None:
    from contacts.tasks import run_bulk_action

    run_bulk_action.enqueue(action_id)


def _bulk_apply(actor: Actor, kind: str, ids: list[int], names: list[str]) -> int:
    if kind == BulkAction.Kind.TAGS_ADD:
        return contacts_tags_add_bulk(actor=actor, contacts=ids, names=names)
    if kind == BulkAction.Kind.TAGS_REMOVE:
        return contacts_tags_remove_bulk(actor=actor, contacts=ids, names=names)
    return contacts_delete(actor=actor, contacts=Contact.objects.filter(pk__in=ids))


def bulk_action_run(
    *,
    action_id: int,
    chunk_size: int = BULK_CHUNK,
    should_stop: Callable[[], bool] | None = None,
) -> BulkAction:
    """Work through a queued bulk action, a committed chunk at a time (the task's body).

    A run owns the action through its ``attempts`` number; should another run take over (this
    one was thought dead), it stops at its next chunk. ``should_stop`` (the worker is shutting
    down) hands the action back to the queue after the current chunk.
    """
    with transaction.atomic():
        action = BulkAction.objects.select_for_update().get(pk=action_id)
        if action.status != BulkAction.Status.QUEUED:
            return action
        now = timezone.now()
        action.status = BulkAction.Status.RUNNING
        action.started_at = action.started_at or now
        action.heartbeat_at = now
        action.attempts += 1
        action.save()
    ids, run = action.contact_ids, action.attempts
    actor = Actor.web(action.created_by) if action.created_by else Actor.system()
    progress = BulkAction.objects.defer("contact_ids").select_for_update()
    try:
        while True:
            chunk = ids[action.done : action.done + chunk_size]
            with transaction.atomic():
                action = progress.get(pk=action_id)
                if action.status != BulkAction.Status.RUNNING or action.attempts != run:
                    logger.warning("bulk action %s was taken over; stopping", action_id)
                    return action
                changed = _bulk_apply(actor, action.kind, chunk, action.tag_names) if chunk else 0
                action.done += len(chunk)
                action.changed += changed
                action.heartbeat_at = timezone.now()
                if action.done >= action.total:
                    action.status = BulkAction.Status.COMPLETED
                    action.finished_at = action.heartbeat_at
                elif should_stop is not None and should_stop():
                    action.status = BulkAction.Status.QUEUED
                    transaction.on_commit(lambda: _bulk_action_enqueue(action_id))
                action.save(
                    update_fields=["done", "changed", "heartbeat_at", "status", "finished_at"]
                )
            if action.status != BulkAction.Status.RUNNING:
                return action
    except Exception:
        logger.exception("bulk action %s failed", action_id)
        BulkAction.objects.filter(pk=action_id, attempts=run).update(
            status=BulkAction.Status.FAILED,
            finished_at=timezone.now(),
            error_message="an unexpected error (the details are in the server log)",
        )
        raise


def bulk_action_resume_if_stalled(*, action_id: int) -> bool:
    """Queue a running action again when its worker stopped committing (killed or lost)."""
    stale = timedelta(seconds=int(settings.BULKUPLOAD_STALE_SECONDS))
    with transaction.atomic():
        queued = BulkAction.objects.filter(
            pk=action_id,
            status=BulkAction.Status.RUNNING,
            heartbeat_at__lt=timezone.now() - stale,
        ).update(status=BulkAction.Status.QUEUED, heartbeat_at=timezone.now())
        if queued:
            logger.warning("bulk action %s stalled; queued again", action_id)
            transaction.on_commit(lambda: _bulk_action_enqueue(action_id))
    return bool(queued)


def _bulk_activity(actor: Actor, contact_id: int, changes: dict[str, Any], now: Any) -> Activity:
    entry = actor.activity(
        contact=Contact(pk=contact_id), kind=Activity.Kind.UPDATED, changes=changes
    )
    entry.created_at = now
    return entry


def list_preference_save(*, user: AbstractBaseUser, columns: Sequence[str]) -> None:
    """Remember the columns (in order) a user shows in the contact list."""
    from contacts.models import ListPreference

    ListPreference.objects.update_or_create(user=user, defaults={"columns": list(columns)})


def saved_view_save(
    *,
    owner: AbstractBaseUser,
    name: str,
    shared: bool,
    query: Mapping[str, Any],
    columns: Sequence[str],
) -> Any:
    """Save the list's search, filters, sort and columns under a name (replacing the owner's
    view of the same name)."""
    from contacts.models import SavedView

    view, _ = SavedView.objects.update_or_create(
        owner=owner,
        name=name,
        defaults={"shared": shared, "query": dict(query), "columns": list(columns)},
    )
    return view


def saved_view_delete(*, owner: AbstractBaseUser, view_id: int) -> bool:
    """Delete one of the owner's saved views; others' views are never touched."""
    from contacts.models import SavedView

    deleted, _ = SavedView.objects.filter(owner=owner, pk=view_id).delete()
    return bool(deleted)


# --- end Bulk actions from the contact list ---

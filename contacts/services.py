"""Every write to contacts, tags, attributes and the activity log.

Web views, the admin, the bulk upload task and the public API call these functions and
nothing else writes those models. Each function is all-or-nothing (one transaction), checks
its input with the field registry and ``contacts.coercion``, records one ``Activity`` per
contact it changes, and records nothing when nothing changed. See DESIGN.md, "Rules every
entry point obeys".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contacts import coercion
from contacts.coercion import CoercionError
from contacts.fields import TAGS, Field, FieldRegistry, attribute_key_for, field_registry
from contacts.models import (
    Activity,
    ApiKey,
    Attribute,
    Contact,
    ContactTag,
    FieldType,
    Source,
    Tag,
)
from contacts.phones import Phone, PhoneError, normalize_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

MAX_TAG_LENGTH = 100


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
    list_separator: str = coercion.DEFAULT_LIST_SEPARATOR,
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
            label = name.strip()
            if not label:
                errors.append(FieldError(name, name, "a field name cannot be empty"))
                continue
            field_type = coercion.infer_type(raw)
            key = attribute_key_for(label)
            target = Field(key=key, label=label, type=field_type, builtin=False)
            planned.new_attributes[key] = (label, field_type)
        if target.key == TAGS:
            try:
                planned.tags.extend(target.coerce(raw, list_separator=list_separator) or [])
            except CoercionError as exc:
                errors.append(FieldError(target.key, target.label, exc.problem))
            continue
        if target.builtin and not target.editable:
            errors.append(FieldError(target.key, target.label, "cannot be changed"))
            continue
        try:
            value = target.coerce(raw, list_separator=list_separator)
        except CoercionError as exc:
            errors.append(FieldError(target.key, target.label, exc.problem))
            continue
        if target.builtin:
            planned.builtin[target.key] = value
        else:
            planned.traits[target.key] = value
    return planned


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
    if type not in FieldType.values:
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
                    planned.traits[key] = coercion.coerce(
                        attribute.type, planned.traits[key], field=attribute.label
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


def _add_tags(contact: Contact, tags: Sequence[Tag]) -> list[str]:
    """Link tags not yet on the (locked) contact; returns the names added."""
    if not tags:
        return []
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
        added = _add_tags(contact, tags_get_or_create(names=tag_names))
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
        with transaction.atomic():
            _save(contact, creating=creating)
    added = _add_tags(contact, tags_get_or_create(names=tag_names))
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
        if clash := _unique_clash(contact):
            raise clash
        _save(contact, creating=False)
        _record(actor, contact, Activity.Kind.UPDATED, {"fields": changes})
    return contact


def _normalized(target: Field, value: Any) -> Any:
    try:
        return target.coerce(value)
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

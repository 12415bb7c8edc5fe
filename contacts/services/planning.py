"""Input checking (pure: no writes): names resolved to fields, values coerced, errors listed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from contacts import kinds
from contacts.errors import ContactInputError, FieldError
from contacts.fields import TAGS, Field, FieldRegistry, attribute_key_for, field_registry
from contacts.kinds import CoercionError
from contacts.phones import Phone, PhoneError, normalize_phone
from contacts.services.tags import clean_tag_names

MAX_FIELD_NAME_LENGTH = 100


@dataclass(slots=True)
class PlannedValues:
    builtin: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)  # None clears the trait
    new_attributes: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> label, type
    tags: list[str] = field(default_factory=list)


def plan_values(
    values: Mapping[str, Any],
    *,
    registry: FieldRegistry,
    create_attributes: bool,
    errors: list[FieldError],
    list_separator: str = kinds.DEFAULT_LIST_SEPARATOR,
) -> PlannedValues:
    """Resolve names to fields and coerce values; problems are appended to ``errors``."""
    planned = PlannedValues()
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


class UpsertInput(NamedTuple):
    user_id: str | None
    phone: Phone | None
    planned: PlannedValues
    tag_names: list[str]


def upsert_input(
    *,
    user_id: str | None,
    phone_number: str | None,
    country_code: str | None,
    values: Mapping[str, Any],
    tags: Iterable[str],
    create_attributes: bool,
    registry: FieldRegistry,
) -> UpsertInput:
    """An upsert's input checked (``contact_upsert`` and ``contacts_track_batch``), or
    :class:`ContactInputError` listing every problem."""
    errors: list[FieldError] = []
    phone = phone_or_error(phone_number, country_code, errors)
    user_id = None if user_id is None else str(user_id).strip() or None
    if phone is None and user_id is None and not errors:
        errors.append(FieldError("user_id", "User id", "a user id or a phone number is required"))
    planned = plan_values(
        values, registry=registry, create_attributes=create_attributes, errors=errors
    )
    if "user_id" in planned.builtin:
        errors.append(
            FieldError("user_id", "User id", "is the contact's identity, not a value to set")
        )
    tag_names = clean_tag_names([*tags, *planned.tags], errors)
    if errors:
        raise ContactInputError(errors)
    return UpsertInput(user_id, phone, planned, tag_names)


def _free_attribute_key(key: str, registry: FieldRegistry, planned: PlannedValues) -> str:
    """``key``, or ``key_2``, ``key_3``... if another field already uses it under another name.

    (A new name that means an existing field was resolved to it before we get here.)
    """
    base, n = key, 2
    while key in registry or (key in planned.new_attributes):
        key, n = f"{base[:95]}_{n}", n + 1
    return key


def phone_or_error(
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
        errors.append(FieldError(exc.field, exc.label, str(exc)))
        return None


def contact_values_errors(
    *, values: Mapping[str, Any], registry: FieldRegistry | None = None
) -> list[FieldError]:
    """What is wrong with ``values`` for an existing contact, without writing anything.

    Forms call this in ``clean()`` so that they can show errors next to their fields.
    """
    errors: list[FieldError] = []
    plan_values(
        values, registry=registry or field_registry(), create_attributes=False, errors=errors
    )
    return errors

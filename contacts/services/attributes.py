"""Custom fields (attributes): created, renamed, and got-or-created when first seen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from contacts import kinds
from contacts.errors import ContactInputError, FieldError
from contacts.fields import attribute_key_for, field_registry
from contacts.kinds import CoercionError, is_field_type
from contacts.models import Attribute
from contacts.services.actor import Actor
from contacts.services.planning import PlannedValues

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


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


def attribute_hide(*, attribute_id: int, hidden: bool) -> Attribute:
    """Hide a custom field from the column and filter pickers and CSV mapping (or show it
    again). Its values stay, and the contact page still shows them."""
    with transaction.atomic():
        attribute = Attribute.objects.select_for_update().get(pk=attribute_id)
        if attribute.changing and not hidden:
            raise ContactInputError(
                [FieldError("hidden", attribute.label, "is being changed; show it afterwards")]
            )
        attribute.hidden = hidden
        attribute.save(update_fields=["hidden"])
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
    if not is_field_type(type):
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


def attributes_get_or_create(
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


def attributes_ensure(planned: PlannedValues, actor: Actor) -> None:
    """Create the attributes first seen in ``planned``; a value is checked again against the
    type of an attribute someone else created meanwhile with another type."""
    if not planned.new_attributes:
        return
    errors: list[FieldError] = []
    created = attributes_get_or_create(planned.new_attributes, actor)
    for key, attribute in created.items():
        if attribute.type != planned.new_attributes[key][1]:
            try:
                planned.traits[key] = kinds.kind_for(attribute.type).parse(
                    planned.traits[key], label=attribute.label
                )
            except CoercionError as exc:
                errors.append(FieldError(key, attribute.label, exc.problem))
    if errors:
        raise ContactInputError(errors)

"""A custom field's values read for a kind change: which would not convert (the preview
and its CSV), and which a finished change kept aside. Reads only; the change itself is
``contacts.services.field_changes``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contacts.errors import ContactInputError, FieldError
from contacts.kinds import CoercionError, is_field_type, kind_for
from contacts.models import Attribute, Contact, FieldChange, FieldType

READ_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Unconverted:
    """A value the new kind refuses: the contact, the value, and why."""

    contact_id: int
    phone: str | None
    user_id: str | None
    value: Any
    problem: str


@dataclass(frozen=True, slots=True)
class KindChangePreview:
    field_label: str
    to_label: str
    with_value: int
    unconverted: int
    examples: list[Unconverted]


def kind_change_target(attribute: Attribute, to_type: str) -> str:
    """``to_type`` if ``attribute`` may change to it, else why not (naming the field)."""
    problem = ""
    if not is_field_type(to_type):
        problem = f'"{to_type}" is not a kind of field'
    elif to_type == attribute.type:
        problem = f"is already a {FieldType(to_type).label.lower()} field"
    if problem:
        raise ContactInputError([FieldError("type", attribute.label, problem)])
    return to_type


def field_values_unconverted(*, attribute: Attribute, to_type: str) -> Iterator[Unconverted]:
    """Every value of ``attribute`` that the ``to_type`` kind would refuse, in contact order.

    Reads the values a few thousand at a time; each one is converted by the new kind, as
    the job will (``Kind.convert``), so the preview and the job agree.
    """
    source, target = kind_for(attribute.type), kind_for(kind_change_target(attribute, to_type))
    rows = (
        Contact.objects.filter(traits__has_key=attribute.key)
        .order_by("pk")
        .values_list("pk", "phone", "user_id", f"traits__{attribute.key}")
    )
    for pk, phone, user_id, value in rows.iterator(chunk_size=READ_CHUNK):
        try:
            target.convert(value, source, label=attribute.label)
        except CoercionError as exc:
            yield Unconverted(pk, phone, user_id, value, exc.problem)


def field_kind_change_preview(
    *, attribute: Attribute, to_type: str, examples: int = 5
) -> KindChangePreview:
    """How many of the field's values would not convert to ``to_type``, with a few of them."""
    to_type = kind_change_target(attribute, to_type)
    found: list[Unconverted] = []
    count = 0
    for item in field_values_unconverted(attribute=attribute, to_type=to_type):
        count += 1
        if len(found) < examples:
            found.append(item)
    with_value = Contact.objects.filter(traits__has_key=attribute.key).count()
    to_label = FieldType(to_type).label
    return KindChangePreview(attribute.label, to_label, with_value, count, found)


def field_change_leftovers(change: FieldChange) -> Iterator[Unconverted]:
    """The values a kind change kept aside, with the contact's phone and user id (if any)."""
    leftovers = change.leftovers.order_by("contact_id").values_list("contact_id", "value")
    source, target = kind_for(change.from_type), kind_for(change.to_type)
    for start in range(0, change.unconverted or 0, READ_CHUNK):
        chunk = list(leftovers[start : start + READ_CHUNK])
        known = Contact.objects.in_bulk([pk for pk, _ in chunk], field_name="pk")
        for pk, value in chunk:
            contact = known.get(pk)
            phone = contact.phone if contact else None
            user_id = contact.user_id if contact else None
            try:
                target.convert(value, source, label=change.field_label)
                problem = "converts now"  # a kind that has since learnt to read it
            except CoercionError as exc:
                problem = exc.problem
            yield Unconverted(pk, phone, user_id, value, problem)

"""Why a write was refused. Errors name canonical field keys; each entry point maps them
to its own words (the API at its edge).

Below services and selectors (the contact matcher in ``contacts.selectors.match`` raises
``ContactConflict`` too); ``contacts.services`` re-exports every class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from contacts.fields import Field
from contacts.models import Contact


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


class MergeRefused(ServiceError):
    """A merge or unmerge that cannot be done as asked (itself, already merged, changed)."""

    code = "merge_refused"

"""The Fields settings page's reads: every field with its value count, index and changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count

from contacts.fields import Field, FieldRegistry
from contacts.models import Contact, FieldChange
from jobs.models import ACTIVE

RECENT_CHANGES = 10


@dataclass(frozen=True, slots=True)
class FieldRow:
    field: Field
    values: int  # contacts that have a value
    indexed: bool
    change: FieldChange | None  # the change running on it, if any


def builtin_indexed(key: str) -> bool:
    """Whether a built-in field's column leads an index (unique, db_index, Meta.indexes),
    or is a relation (tags: the ``(tag, contact)`` index)."""
    try:
        column = Contact._meta.get_field(key)
    except FieldDoesNotExist:
        return False
    if column.many_to_many or getattr(column, "unique", False) or column.db_index:
        return True
    return any(index.fields[0].lstrip("-") == key for index in Contact._meta.indexes)


def fields_overview(registry: FieldRegistry) -> list[FieldRow]:
    """Every field of ``registry`` with how many contacts have a value: one counting query
    (a pass over the contacts) and one for the changes that are running."""
    counts = Contact.objects.aggregate(
        **{f"v{n}": Count("pk", filter=f.kind.is_set(f)) for n, f in enumerate(registry)}
    )
    running = {
        change.attribute_id: change
        for change in FieldChange.objects.filter(status__in=ACTIVE, attribute__isnull=False)
    }
    return [
        FieldRow(
            field=f,
            values=counts[f"v{n}"],
            indexed=builtin_indexed(f.key) if f.builtin else f.indexed,
            change=running.get(f.attribute_id),
        )
        for n, f in enumerate(registry)
    ]


def field_changes_recent(*, limit: int = RECENT_CHANGES) -> list[FieldChange]:
    changes = FieldChange.objects.select_related("created_by").order_by("-created_at", "-id")
    return list(changes[:limit])


class FieldKindHistory:
    """The kind a custom field had at a moment, from its completed kind changes and deletes,
    so that a timeline shows an old value as the kind it was stored under."""

    def __init__(self, changes: list[tuple[str, datetime, str]]) -> None:
        self._by_key: dict[str, list[tuple[datetime, str]]] = {}
        for key, finished_at, from_type in changes:  # in finishing order
            self._by_key.setdefault(key, []).append((finished_at, from_type))

    def kind_at(self, key: str, moment: datetime) -> str | None:
        """The field's type at ``moment`` if a change since gave it another, else None."""
        later = (t for finished, t in self._by_key.get(key, ()) if finished > moment)
        return next(later, None)


def field_kind_history() -> FieldKindHistory:
    """One query: every completed kind change and delete (a short list)."""
    rows = (
        FieldChange.objects.filter(
            status=FieldChange.Status.COMPLETED,
            operation__in=[FieldChange.Operation.CHANGE_KIND, FieldChange.Operation.DELETE],
        )
        .order_by("finished_at", "pk")
        .values_list("field_key", "finished_at", "from_type")
    )
    return FieldKindHistory(list(rows))

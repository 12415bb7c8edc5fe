"""Lists: a JSON list, or a cell split on a separator; stored as unique trimmed strings."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db.models import BooleanField, F, Func, Q, Value

from contacts.csv_cells import join_list_cell, split_list_cell
from contacts.kinds.base import DEFAULT_LIST_SEPARATOR, CoercionError, Kind, Operator, register
from contacts.kinds.text import parse_text
from contacts.kinds.widgets import ChipListWidget

if TYPE_CHECKING:
    from contacts.csv_cells import join_list_cell, split_list_cell
from contacts.kinds.base import FieldLike

# The chip editor's text input also splits on "," and new lines, so it works without script.
_TYPED_SPLIT_RE = re.compile(r"[;,\n]")


def parse_list(value: Any, *, label: str, separator: str = DEFAULT_LIST_SEPARATOR) -> list[str]:
    if isinstance(value, str):
        items = split_list_cell(value, separator)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise CoercionError(label, value, "expected a list")
    result: list[str] = []
    for item in items:
        if item is None or isinstance(item, (dict, list, bool)):
            raise CoercionError(label, value, "list items must be text or numbers")
        text = parse_text(item, label=label)
        if text and text not in result:
            result.append(text)
    return result


class ChipListField(forms.Field):
    """The chips kept plus the items typed into the chip editor's input."""

    def __init__(self, *, label: str) -> None:
        super().__init__(label=label, required=False, widget=ChipListWidget(label))

    def to_python(self, value: Any) -> list[str]:
        if not isinstance(value, dict):
            return list(value or [])
        items = [*value["items"], *_TYPED_SPLIT_RE.split(value["typed"] or "")]
        return [i.strip() for i in items if i.strip()]


class ListHasItem(Func):
    """True when the list trait ``key`` holds ``item`` (compared case-insensitively).

    Neither database has a portable JSON "array contains" for SQLite and PostgreSQL alike,
    so this compiles to ``json_each`` / ``jsonb_array_elements_text``. ``traits`` is
    compiled through the ORM, so the right table alias is used inside subqueries too.
    """

    output_field = BooleanField()

    def __init__(self, key: str, item: str) -> None:
        super().__init__(F("traits"), Value(key), Value(item))

    def as_sql(self, compiler, connection, **extra_context):
        traits_sql, traits_params = compiler.compile(self.source_expressions[0])
        key = self.source_expressions[1].value
        item = self.source_expressions[2].value
        if connection.vendor == "postgresql":
            sql = (
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN "
                f"jsonb_typeof({traits_sql} -> %s) = 'array' THEN {traits_sql} -> %s "
                "ELSE '[]'::jsonb END) AS list_item(value) WHERE lower(list_item.value) = "
                "lower(%s))"
            )
            return sql, (*traits_params, key, *traits_params, key, item)
        path = '$."' + key.replace('"', '\\"') + '"'
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({traits_sql}, %s) AS list_item "
            "WHERE list_item.type = 'text' AND lower(list_item.value) = lower(%s))"
        )
        return sql, (*traits_params, path, item)


@register
class ListKind(Kind):
    name = "list"
    inference_rank = 3
    value_template = "contacts/values/list.html"
    operators: ClassVar[tuple[Operator, ...]] = (
        Operator("contains", "contains"),
        Operator("not_contains", "does not contain"),
        Operator("empty", "is empty", 0),
        Operator("not_empty", "is not empty", 0),
    )

    def to_python(self, value: Any, *, label: str, list_separator: str) -> list[str]:
        return parse_list(value, label=label, separator=list_separator)

    def text_for_people(self, value: Any, tz: tzinfo) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    def export(self, value: Any) -> str:
        """Items joined with ``;``, the importer's default separator (an item holding it is
        quoted)."""
        if isinstance(value, list):
            return join_list_cell((str(v) for v in value), DEFAULT_LIST_SEPARATOR)
        return super().export(value)

    def formfield(self, field: FieldLike) -> forms.Field:
        return forms.CharField(label=field.label, required=False, help_text="Separate items with ;")

    def editor_formfield(self, field: FieldLike, tz: zoneinfo.ZoneInfo) -> forms.Field:
        return ChipListField(label=field.label)

    def editor_initial(self, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
        return list(value or [])

    def condition(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        empty = ~Q(traits__has_key=field.key) | Q(**{field.lookup: []})
        match op:
            case "contains":
                return Q(ListHasItem(field.key, values[0]))
            case "not_contains":
                return ~Q(traits__has_key=field.key) | ~Q(ListHasItem(field.key, values[0]))
            case "empty":
                return empty
            case "not_empty":
                return ~empty
        return super().condition(field, op, values)

    def fits_json(self, value: Any) -> bool:
        return isinstance(value, (list, tuple))

    def fits_cells(self, samples: Sequence[str]) -> bool:
        return False  # any text splits into a list: a column is only a list when chosen

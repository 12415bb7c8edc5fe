"""Numbers: stored as JSON numbers (integers when integral), grouped for people (1,234,567)."""

from __future__ import annotations

import math
import re
import zoneinfo
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db.models import Q

from contacts.kinds.base import (
    INPUT_ATTRS,
    IS_SET,
    NOT_SET,
    CoercionError,
    Kind,
    Operator,
    register,
)

if TYPE_CHECKING:
    from contacts.kinds.base import FieldLike

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Longer text is no number a person means; it also keeps int() within Python's digit limit.
MAX_NUMBER_TEXT = 400
# Both databases hold JSON integers as 64-bit numbers.
INTEGER_LIMIT = 2**63 - 1
# Integers beyond this are not exact as JSON doubles; a filter bound compares them as floats.
EXACT_FLOAT_LIMIT = 2**53


def parse_number(value: Any, *, label: str) -> int | float:
    """A number to store: finite, and an integer when integral within 64 bits."""
    number = read_number(value, label=label)
    if isinstance(number, int) and abs(number) > INTEGER_LIMIT:
        raise CoercionError(label, value, f"too large (at most {INTEGER_LIMIT:,} either way)")
    return number


def read_number(value: Any, *, label: str) -> int | float:
    """Any finite number written in up to 400 characters (a filter bound may be any size)."""
    if isinstance(value, bool):
        raise CoercionError(label, value, "expected a number")
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if len(text) > MAX_NUMBER_TEXT:
            raise CoercionError(label, value, "too long to be a number")
        if not _NUMBER_RE.match(text):
            raise CoercionError(label, value, "expected a number")
        number: float | int = float(text) if any(c in text for c in ".eE") else int(text)
    elif isinstance(value, (int, float)):
        number = value
    else:
        raise CoercionError(label, value, "expected a number")
    if isinstance(number, float):
        if not math.isfinite(number):
            raise CoercionError(label, value, "expected a finite number")
        if number.is_integer() and abs(number) < EXACT_FLOAT_LIMIT:
            return int(number)
    return number


def group_digits(number: int | float) -> str:
    """``1234567`` -> ``1,234,567``; ``2.50`` -> ``2.5`` (floats without trailing zeros)."""
    text = f"{number:,}"
    if isinstance(number, float) and "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return text


@register
class NumberKind(Kind):
    name = "number"
    ordered_index = True
    inference_rank = 2
    operators: ClassVar[tuple[Operator, ...]] = (
        Operator("eq", "=", value_kind="number"),
        Operator("ne", "≠", value_kind="number"),
        Operator("gt", ">", value_kind="number"),
        Operator("gte", "≥", value_kind="number"),
        Operator("lt", "<", value_kind="number"),
        Operator("lte", "≤", value_kind="number"),
        Operator("between", "between", 2, "number"),
        IS_SET,
        NOT_SET,
    )

    def to_python(self, value: Any, *, label: str, list_separator: str) -> int | float:
        return parse_number(value, label=label)

    def text_for_people(self, value: Any, tz: tzinfo) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return group_digits(value)
        return str(value)

    def formfield(self, field: FieldLike) -> forms.Field:
        return forms.CharField(
            label=field.label, required=False, widget=forms.TextInput({"inputmode": "decimal"})
        )

    def editor_formfield(self, field: FieldLike, tz: zoneinfo.ZoneInfo) -> forms.Field:
        # Not type="number": a browser sends "" for "12a" in a number input, which would
        # silently clear the value instead of showing "expected a number".
        return forms.CharField(
            label=field.label,
            required=False,
            strip=False,
            widget=forms.TextInput({**INPUT_ATTRS, "inputmode": "decimal"}),
        )

    def filter_value(self, field: FieldLike, operator: Operator, raw: str) -> Any:
        number = read_number(raw, label=field.label)
        if abs(number) < EXACT_FLOAT_LIMIT:
            return number
        # Databases hold 64-bit integers; a bigger bound compares the same as a float.
        try:
            return float(number)
        except OverflowError:
            raise CoercionError(field.label, raw, "too large to compare") from None

    def condition(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        match op:
            case "eq":
                return self.compare(field, "exact", values[0])
            case "ne":
                return self.negate(field, self.compare(field, "exact", values[0]))
            case "gt" | "gte" | "lt" | "lte":
                return self.compare(field, op, values[0])
            case "between":
                return self.compare(field, "gte", values[0]) & self.compare(field, "lte", values[1])
        return super().condition(field, op, values)

    def fits_json(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

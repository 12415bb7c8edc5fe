"""Values by type: the one place that turns input into stored values.

Every entry point (web forms, CSV rows, API payloads, admin) calls :func:`coerce`. Strings
from a form or CSV cell and native JSON values are both accepted. A value that does not fit
its type raises :class:`CoercionError` naming the field and the value; nothing is ever
silently stored as something else.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.csv_cells import split_list_cell
from contacts.models import FieldType

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})
DEFAULT_LIST_SEPARATOR = ";"

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
    r"(Z|[+-]\d{2}(:?\d{2}(:?\d{2}(\.\d{1,6})?)?)?)?$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

# Plain ASCII addresses: a dot-atom local part, then labels of letters, digits and inner
# hyphens (at most 63 characters) ending in a top-level label of letters only. Every match is
# an address that Django's EmailValidator accepts (a subset of its patterns).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}")
EMAIL_MAX_LENGTH = 320  # EmailValidator's limit (RFC 3696)


class CoercionError(ValueError):
    """A value that does not fit a field's type; ``str()`` is a message for people."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {problem} (got {_shown(value)})")


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def coerce(
    field_type: str,
    value: Any,
    *,
    field: str = "value",
    list_separator: str = DEFAULT_LIST_SEPARATOR,
) -> Any:
    """Return ``value`` as stored for ``field_type``; ``None`` and "" mean "no value"."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    match field_type:
        case FieldType.TEXT:
            return coerce_text(value, field=field)
        case FieldType.NUMBER:
            return coerce_number(value, field=field)
        case FieldType.BOOLEAN:
            return coerce_boolean(value, field=field)
        case FieldType.DATETIME:
            return coerce_datetime(value, field=field)
        case FieldType.LIST:
            return coerce_list(value, field=field, separator=list_separator)
    raise CoercionError(field, value, f"unknown type {field_type!r}")


def coerce_text(value: Any, *, field: str) -> str:
    if isinstance(value, (bool, dict, list)):
        raise CoercionError(field, value, "expected text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def coerce_number(value: Any, *, field: str) -> int | float:
    if isinstance(value, bool):
        raise CoercionError(field, value, "expected a number")
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if not _NUMBER_RE.match(text):
            raise CoercionError(field, value, "expected a number")
        number: float | int = float(text) if any(c in text for c in ".eE") else int(text)
    elif isinstance(value, (int, float)):
        number = value
    else:
        raise CoercionError(field, value, "expected a number")
    if isinstance(number, float):
        if not math.isfinite(number):
            raise CoercionError(field, value, "expected a finite number")
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
    return number


def coerce_boolean(value: Any, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise CoercionError(field, value, "expected true or false")


def coerce_datetime(value: Any, *, field: str) -> str:
    """ISO 8601 in; ``YYYY-MM-DD`` or UTC ``YYYY-MM-DDTHH:MM:SSZ`` out (sorts as text).

    A date and time without an offset is taken as UTC. Fractions of a second are dropped so
    that stored strings keep sorting chronologically.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return value.isoformat()
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_RE.match(text):
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                raise CoercionError(field, value, "not a real date") from None
        if not _DATETIME_RE.match(text):
            raise CoercionError(
                field, value, "expected an ISO date like 2024-10-31 or 2024-10-31T14:00:00Z"
            )
        try:
            parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            raise CoercionError(field, value, "not a real date and time") from None
    else:
        raise CoercionError(field, value, "expected an ISO date or date and time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    utc = parsed.astimezone(UTC).replace(microsecond=0)
    if not 1 <= utc.year <= 9999:
        raise CoercionError(field, value, "year out of range")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def coerce_list(value: Any, *, field: str, separator: str = DEFAULT_LIST_SEPARATOR) -> list[str]:
    if isinstance(value, str):
        items = split_list_cell(value, separator)
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise CoercionError(field, value, "expected a list")
    result: list[str] = []
    for item in items:
        if item is None or isinstance(item, (dict, list, bool)):
            raise CoercionError(field, value, "list items must be text or numbers")
        text = coerce_text(item, field=field)
        if text and text not in result:
            result.append(text)
    return result


def is_plain_email(value: str) -> bool:
    """True for a plain ASCII address, which EmailValidator accepts; False means "ask it"."""
    return len(value) <= EMAIL_MAX_LENGTH and _PLAIN_EMAIL_RE.fullmatch(value) is not None


def is_valid_email(value: str) -> bool:
    """EmailValidator's decision, without running it for plain ASCII addresses."""
    return is_plain_email(value) or _email_reference(value)


def _email_reference(value: str) -> bool:
    """Django's EmailValidator, the reference for :func:`is_valid_email`."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def infer_type(value: Any) -> FieldType:
    """The type of a trait seen for the first time, from its JSON value."""
    if isinstance(value, bool):
        return FieldType.BOOLEAN
    if isinstance(value, (int, float)):
        return FieldType.NUMBER
    if isinstance(value, (list, tuple)):
        return FieldType.LIST
    if isinstance(value, str):
        try:
            coerce_datetime(value, field="value")
        except CoercionError:
            return FieldType.TEXT
        return FieldType.DATETIME
    return FieldType.TEXT


def suggest_type(samples: list[str]) -> FieldType:
    """The type that fits every non-empty sample string (CSV columns), else text."""
    values = [s for s in samples if s and s.strip()]
    if not values:
        return FieldType.TEXT
    for field_type in (FieldType.BOOLEAN, FieldType.NUMBER, FieldType.DATETIME):
        try:
            for sample in values:
                coerce(field_type, sample)
        except CoercionError:
            continue
        return field_type
    return FieldType.TEXT


def display(field_type: str, value: Any) -> str:
    """A stored value as text for people (lists joined with ", ")."""
    if value is None:
        return ""
    if field_type == FieldType.BOOLEAN:
        return "Yes" if value else "No"
    if field_type == FieldType.LIST and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)

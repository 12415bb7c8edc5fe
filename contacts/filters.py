"""Contact list filters: operators per field type, driven by the field registry.

A filter is ``field key : operator : value`` and travels in the URL as ``f=age:gt:30``, so a
filtered list can be bookmarked and shared. Two-value operators (``between``) and the tag
operators join their values with ``|`` (``f=age:between:18|30``, ``f=tags:any:VIP|Lead``).

Built-in columns and custom traits (``Contact.traits[key]``) get the same operators. Trait
comparisons use the database's JSON operators, which compare JSON numbers as numbers on both
SQLite (``json_extract`` returns a number) and PostgreSQL (``jsonb`` orders numbers
numerically); datetimes are stored as ISO strings (``2024-10-31`` or
``2024-10-31T14:00:00Z``), which compare chronologically as text.

Negative operators (``is not``, ``does not contain``, ``!=``, ``has none of``) also match
contacts that have no value for the field: "city is not Pune" includes contacts without a
city, as a person reading the sentence expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from contacts import coercion
from contacts.coercion import CoercionError
from contacts.fields import TAGS, Field, FieldRegistry
from contacts.models import Contact, ContactTag, FieldType, tag_key
from contacts.phones import PhoneError, normalize_phone

VALUE_SEPARATOR = "|"
MAX_DAYS = 100 * 366
# Sorts after every stored date string ("9999-12-31T23:59:59Z" included); not a real date.
AFTER_EVERY_DATE = "9999-12-32"


class FilterError(ValueError):
    """A filter that cannot be applied; ``str()`` names the field and the problem."""


@dataclass(frozen=True, slots=True)
class Operator:
    key: str
    label: str
    # How many values the operator takes: 0 (is set), 1, 2 (between) or "many" (tags).
    arity: int | str = 1
    # What kind of value input the form shows: "text", "number", "date", "days", "tags".
    value_kind: str = "text"


IS_SET = Operator("set", "is set", 0)
NOT_SET = Operator("unset", "is not set", 0)

OPERATORS: dict[str, tuple[Operator, ...]] = {
    FieldType.TEXT: (
        Operator("eq", "is"),
        Operator("ne", "is not"),
        Operator("contains", "contains"),
        Operator("not_contains", "does not contain"),
        Operator("startswith", "starts with"),
        IS_SET,
        NOT_SET,
    ),
    FieldType.NUMBER: (
        Operator("eq", "=", value_kind="number"),
        Operator("ne", "≠", value_kind="number"),
        Operator("gt", ">", value_kind="number"),
        Operator("gte", "≥", value_kind="number"),
        Operator("lt", "<", value_kind="number"),
        Operator("lte", "≤", value_kind="number"),
        Operator("between", "between", 2, "number"),
        IS_SET,
        NOT_SET,
    ),
    FieldType.BOOLEAN: (
        Operator("true", "is true", 0),
        Operator("false", "is false", 0),
        IS_SET,
        NOT_SET,
    ),
    FieldType.DATETIME: (
        Operator("before", "before", value_kind="date"),
        Operator("after", "after", value_kind="date"),
        Operator("on", "on", value_kind="date"),
        Operator("between", "between", 2, "date"),
        Operator("last_days", "in the last N days", value_kind="days"),
        Operator("older_days", "more than N days ago", value_kind="days"),
        IS_SET,
        NOT_SET,
    ),
    FieldType.LIST: (
        Operator("contains", "contains"),
        Operator("not_contains", "does not contain"),
        Operator("empty", "is empty", 0),
        Operator("not_empty", "is not empty", 0),
    ),
    TAGS: (
        Operator("any", "has any of", "many", "tags"),
        Operator("all", "has all of", "many", "tags"),
        Operator("none", "has none of", "many", "tags"),
    ),
}


def operators_for(field: Field) -> tuple[Operator, ...]:
    return OPERATORS[field.type]


def operator_for(field: Field, key: str) -> Operator | None:
    return next((op for op in operators_for(field) if op.key == key), None)


@dataclass(frozen=True, slots=True)
class Filter:
    field: Field
    operator: Operator
    values: tuple[Any, ...] = ()

    @property
    def param(self) -> str:
        """The canonical ``f=`` value for the URL."""
        head = f"{self.field.key}:{self.operator.key}"
        if not self.values:
            return head
        return f"{head}:{VALUE_SEPARATOR.join(str(v) for v in self.values)}"

    @property
    def label(self) -> str:
        """The chip text, e.g. ``Age ≥ 30`` or ``Tags has any of VIP, Lead``."""
        op = self.operator
        if op.arity == 0:
            return f"{self.field.label} {op.label}"
        if op.arity == 2:
            return f"{self.field.label} between {self.values[0]} and {self.values[1]}"
        if op.value_kind == "days":
            unit = "day" if self.values[0] == 1 else "days"
            text = op.label.replace("N days", f"{self.values[0]} {unit}")
            return f"{self.field.label} {text}"
        shown = ", ".join(str(v) for v in self.values)
        return f"{self.field.label} {op.label} {shown}"

    def q(self) -> Q:
        return _build_q(self)


# --- Parsing ---------------------------------------------------------------------------------
def parse_filter(raw: str, registry: FieldRegistry) -> Filter:
    """``"age:gt:30"`` -> :class:`Filter`, or :class:`FilterError` saying what is wrong."""
    key, _, rest = raw.partition(":")
    op_key, _, value_text = rest.partition(":")
    field = registry.get(key.strip())
    if field is None:
        raise FilterError(f'There is no field "{key.strip()}" to filter on')
    return build_filter(field, op_key.strip(), _split(value_text, field, op_key.strip()))


def _split(value_text: str, field: Field, op_key: str) -> list[str]:
    operator = operator_for(field, op_key)
    if operator is None or operator.arity == 0:
        return []
    if operator.arity == 1:
        return [value_text]
    return value_text.split(VALUE_SEPARATOR)


def build_filter(field: Field, op_key: str, raw_values: list[str]) -> Filter:
    """A filter from a field, an operator key and the values typed in the form."""
    operator = operator_for(field, op_key)
    if operator is None:
        raise FilterError(f'{field.label}: "{op_key}" is not an operator for this field')
    raw_values = [str(v).strip() for v in raw_values]
    if operator.arity == 0:
        return Filter(field, operator)
    if operator.arity == "many":
        names = [v for v in raw_values if v]
        if not names:
            raise FilterError(f"{field.label}: choose at least one tag")
        return Filter(field, operator, tuple(dict.fromkeys(names)))
    wanted = 2 if operator.arity == 2 else 1
    if len(raw_values) < wanted or any(not v for v in raw_values[:wanted]):
        raise FilterError(f"{field.label} {operator.label}: a value is required")
    values = tuple(_coerce_value(field, operator, v) for v in raw_values[:wanted])
    if operator.arity == 2 and values[0] > values[1]:
        values = (values[1], values[0])
    return Filter(field, operator, values)


def _coerce_value(field: Field, operator: Operator, raw: str) -> Any:
    try:
        if operator.value_kind == "days":
            days = coercion.coerce_number(raw, field=field.label)
            if not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
                raise CoercionError(
                    field.label, raw, f"expected a whole number of days up to {MAX_DAYS}"
                )
            return days
        if operator.value_kind == "number":
            number = coercion.coerce_number(raw, field=field.label)
            # Databases hold 64-bit integers; a bigger bound compares the same as a float.
            return float(number) if abs(number) >= 2**53 else number
        if operator.value_kind == "date":
            return coercion.coerce_datetime(raw, field=field.label)
    except CoercionError as exc:
        raise FilterError(f'{field.label}: {exc.problem} (got "{raw}")') from None
    return raw


# --- Building conditions -------------------------------------------------------------------
def _build_q(flt: Filter) -> Q:
    field, op = flt.field, flt.operator.key
    if field.type == TAGS:
        return _tags_q(op, flt.values)
    if op == "set":
        return _is_set(field)
    if op == "unset":
        return ~_is_set(field)
    match field.type:
        case FieldType.TEXT:
            return _text_q(field, op, flt.values[0])
        case FieldType.NUMBER:
            return _number_q(field, op, flt.values)
        case FieldType.BOOLEAN:
            return _boolean_q(field, op)
        case FieldType.DATETIME:
            return _datetime_q(field, op, flt.values)
        case FieldType.LIST:
            return _list_q(field, op, flt.values)
    raise FilterError(f"{field.label}: cannot filter on this field")


def _is_set(field: Field) -> Q:
    if not field.builtin:
        return Q(traits__has_key=field.key)
    if field.type == FieldType.TEXT:
        return Q(**{f"{field.key}__isnull": False}) & ~Q(**{field.key: ""})
    return Q(**{f"{field.key}__isnull": False})


def _negate(field: Field, condition: Q) -> Q:
    """Not ``condition``, counting contacts without a value as not matching ``condition``."""
    return ~_is_set(field) | (_is_set(field) & ~condition)


def _text_q(field: Field, op: str, value: str) -> Q:
    lookup = field.lookup
    if field.key == "phone":
        value = _phone_text(value, whole=op in ("eq", "ne"))
    match op:
        case "eq":
            return Q(**{f"{lookup}__iexact": value})
        case "ne":
            return _negate(field, Q(**{f"{lookup}__iexact": value}))
        case "contains":
            return Q(**{f"{lookup}__icontains": value})
        case "not_contains":
            return _negate(field, Q(**{f"{lookup}__icontains": value}))
        case "startswith":
            return Q(**{f"{lookup}__istartswith": value})
    raise FilterError(f"{field.label}: unknown operator {op}")


_PHONE_CHARS_RE = re.compile(r"[\s().\-/]")


def _phone_text(value: str, *, whole: bool) -> str:
    """A phone typed any common way, as stored: E.164 when it parses, else its digits."""
    compact = _PHONE_CHARS_RE.sub("", value)
    if whole:
        try:
            return normalize_phone(compact).e164
        except PhoneError:
            return compact
    return compact


def _number_q(field: Field, op: str, values: tuple[Any, ...]) -> Q:
    lookup = field.lookup
    match op:
        case "eq":
            return Q(**{lookup: values[0]})
        case "ne":
            return _negate(field, Q(**{lookup: values[0]}))
        case "gt" | "gte" | "lt" | "lte":
            return Q(**{f"{lookup}__{op}": values[0]})
        case "between":
            return Q(**{f"{lookup}__gte": values[0], f"{lookup}__lte": values[1]})
    raise FilterError(f"{field.label}: unknown operator {op}")


def _boolean_q(field: Field, op: str) -> Q:
    return Q(**{field.lookup: op == "true"})


def _datetime_q(field: Field, op: str, values: tuple[Any, ...]) -> Q:
    lookup = field.lookup
    if op in ("last_days", "older_days"):
        since = timezone.localdate() - timedelta(days=values[0])
        bound = _bound(field, since.isoformat())
        return Q(**{f"{lookup}__gte" if op == "last_days" else f"{lookup}__lt": bound})
    if op == "between":
        start, end = values
        return Q(**{f"{lookup}__gte": _bound(field, start)}) & Q(
            **{f"{lookup}__lt": _bound(field, _day_after(end))}
            if _is_date(end)
            else {f"{lookup}__lte": _bound(field, end)}
        )
    value = values[0]
    if op == "on":
        day = value[:10]
        start, end = _bound(field, day), _bound(field, _day_after(day))
        return Q(**{f"{lookup}__gte": start, f"{lookup}__lt": end})
    if op == "before":
        return Q(**{f"{lookup}__lt": _bound(field, value)})
    if op == "after":
        if _is_date(value):
            return Q(**{f"{lookup}__gte": _bound(field, _day_after(value))})
        return Q(**{f"{lookup}__gt": _bound(field, value)})
    raise FilterError(f"{field.label}: unknown operator {op}")


def _is_date(value: str) -> bool:
    return len(value) == 10


def _day_after(value: str) -> str:
    try:
        return (date.fromisoformat(value[:10]) + timedelta(days=1)).isoformat()
    except OverflowError:
        return AFTER_EVERY_DATE


def _bound(field: Field, value: str) -> Any:
    """A stored datetime string as the field's comparable: text for traits, aware for columns."""
    if not field.builtin:
        return value
    if value == AFTER_EVERY_DATE:
        return datetime.max.replace(tzinfo=UTC)
    if _is_date(value):
        return timezone.make_aware(datetime.combine(date.fromisoformat(value), time.min))
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _list_q(field: Field, op: str, values: tuple[Any, ...]) -> Q:
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
    raise FilterError(f"{field.label}: unknown operator {op}")


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


def _tags_q(op: str, names: tuple[str, ...]) -> Q:
    """Tag conditions as ``id IN (contact ids from the tag index)``.

    Not a correlated ``EXISTS``: SQLite runs that once per contact (a second at 500,000
    contacts), while ``IN (subquery)`` is built once from the ``(tag, contact)`` index.
    """
    keys = [tag_key(n) for n in names]

    def tagged(tag_keys: list[str]) -> Q:
        links = ContactTag.objects.filter(tag__name_key__in=tag_keys).values("contact_id")
        return Q(pk__in=links)

    if op == "any":
        return tagged(keys)
    if op == "none":
        return ~tagged(keys)
    if op == "all":
        condition = Q()
        for key in keys:
            condition &= tagged([key])
        return condition
    raise FilterError(f"Tags: unknown operator {op}")


def sort_expression(field: Field, *, descending: bool) -> Any:
    """How to order by a field: the column, or the trait's JSON value (numbers as numbers).

    Missing values sort last both ways. ``NULLS LAST`` is only asked for where a value can be
    missing: on a NOT NULL column it would stop PostgreSQL from walking the column's index
    (``created_at DESC`` indexes keep NULLs first), turning the default first page into a
    sort of every contact.
    """
    if field.builtin:
        expression = F(field.key)
        nullable = Contact._meta.get_field(field.key).null
    else:
        expression, nullable = KeyTransform(field.key, "traits"), True
    if descending:
        return expression.desc(nulls_last=True) if nullable else expression.desc()
    return expression.asc(nulls_last=True) if nullable else expression.asc()

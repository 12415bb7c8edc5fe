"""Contact list filters: ``field key : operator : value``, parsed against the field registry.

A filter travels in the URL as ``f=age:gt:30``, so a filtered list can be bookmarked and
shared. Two-value operators (``between``) and the tag operators join their values with ``|``
(``f=age:between:18|30``, ``f=tags:any:VIP|Lead``).

Which operators a field has, how a typed value is read and which condition it becomes belong
to the field's kind (``contacts.kinds``). Built-in columns and custom traits get the same
operators. Negative operators (``is not``, ``does not contain``, ``!=``, ``has none of``) also
match contacts that have no value for the field: "city is not Pune" includes contacts without
a city, as a person reading the sentence expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from contacts.fields import Field, FieldRegistry
from contacts.kinds import CoercionError, FilterError, Operator
from contacts.models import Contact

VALUE_SEPARATOR = "|"


def operators_for(field: Field) -> tuple[Operator, ...]:
    return field.operators


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
        return self.field.q(self.operator.key, self.values)

    def own_ids(self) -> QuerySet | None:
        """The ids of the contacts this condition matches (one column, maybe repeated),
        from the kind's own index; None when the kind has none for it."""
        return self.field.ids_alone(self.operator.key, self.values)

    def ids(self) -> QuerySet:
        """``own_ids``, or else the matching contacts' ids."""
        ids = self.own_ids()
        return Contact.objects.filter(self.q()).values("pk") if ids is None else ids


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
        return field.kind.filter_value(field, operator, raw)
    except CoercionError as exc:
        raise FilterError(f'{field.label}: {exc.problem} (got "{raw}")') from None


def sort_expression(field: Field, *, descending: bool) -> Any:
    """How to order the list by ``field`` (see ``Kind.sort``)."""
    return field.sort(descending=descending)

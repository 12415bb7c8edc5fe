"""Text: any string or number, stored trimmed; compared case-insensitively in filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

from contacts.kinds.base import (
    IS_SET,
    NOT_SET,
    CoercionError,
    Kind,
    Operator,
    TraitText,
    register,
)

if TYPE_CHECKING:
    from contacts.kinds.base import FieldLike


def parse_text(value: Any, *, label: str) -> str:
    if isinstance(value, (bool, dict, list)):
        raise CoercionError(label, value, "expected text")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@register
class TextKind(Kind):
    name = "text"
    operators: ClassVar[tuple[Operator, ...]] = (
        Operator("eq", "is"),
        Operator("ne", "is not"),
        Operator("contains", "contains"),
        Operator("not_contains", "does not contain"),
        Operator("startswith", "starts with"),
        IS_SET,
        NOT_SET,
    )

    def to_python(self, value: Any, *, label: str, list_separator: str) -> str:
        return parse_text(value, label=label)

    def stores_as_is(self, text: str) -> bool:
        return True

    def is_set(self, field: FieldLike) -> Q:
        if field.builtin:
            return Q(**{f"{field.key}__isnull": False}) & ~Q(**{field.key: ""})
        return super().is_set(field)

    def filter_text(self, value: str, *, whole: bool) -> str:
        """A typed filter value as stored values are compared with it."""
        return value

    def index_expression(self, field: FieldLike) -> Any | None:
        """A custom text field's index holds its value in lower case, as "is" compares it."""
        return None if field.builtin else Lower(TraitText(field.key))

    def equals(self, field: FieldLike, value: str) -> Q:
        """``field`` is ``value`` whatever the case: through the index expression if any."""
        expression = self.index_expression(field)
        if expression is None:
            return Q(**{f"{field.lookup}__iexact": value})
        return Q(Exact(expression, Lower(Value(value))))

    def condition(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        lookup = field.lookup
        value = self.filter_text(values[0], whole=op in ("eq", "ne"))
        match op:
            case "eq":
                return self.equals(field, value)
            case "ne":
                return self.negate(field, self.equals(field, value))
            case "contains":
                return Q(**{f"{lookup}__icontains": value})
            case "not_contains":
                return self.negate(field, Q(**{f"{lookup}__icontains": value}))
            case "startswith":
                return Q(**{f"{lookup}__istartswith": value})
        return super().condition(field, op, values)

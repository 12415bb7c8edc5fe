"""Booleans: true/false, yes/no, 1/0 in; Yes/No for people, TRUE/FALSE in the export."""

from __future__ import annotations

import zoneinfo
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db.models import Q

from contacts.kinds.base import IS_SET, NOT_SET, CoercionError, Kind, Operator, register

if TYPE_CHECKING:
    from contacts.kinds.base import FieldLike

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


class SwitchInput(forms.CheckboxInput):
    """A checkbox drawn as a switch (``role="switch"``)."""

    template_name = "contacts/widgets/switch.html"


@register
class BooleanKind(Kind):
    name = "boolean"
    inference_rank = 1
    value_template = "contacts/values/boolean.html"
    operators: ClassVar[tuple[Operator, ...]] = (
        Operator("true", "is true", 0),
        Operator("false", "is false", 0),
        IS_SET,
        NOT_SET,
    )

    def to_python(self, value: Any, *, label: str, list_separator: str) -> bool:
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
        raise CoercionError(label, value, "expected true or false")

    def text_for_people(self, value: Any, tz: tzinfo) -> str:
        return "Yes" if value else "No"

    def export(self, value: Any) -> str:
        if value is None:
            return ""
        return "TRUE" if value else "FALSE"

    def formfield(self, field: FieldLike) -> forms.Field:
        return forms.ChoiceField(
            label=field.label, required=False, choices=[("", "—"), ("true", "Yes"), ("false", "No")]
        )

    def editor_formfield(self, field: FieldLike, tz: zoneinfo.ZoneInfo) -> forms.Field:
        return forms.BooleanField(
            label=field.label,
            required=False,
            widget=SwitchInput({"class": "form-check-input", "role": "switch"}),
        )

    def editor_initial(self, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
        return bool(value)

    def condition(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        if op in ("true", "false"):
            return Q(**{field.lookup: op == "true"})
        return super().condition(field, op, values)

    def fits_json(self, value: Any) -> bool:
        return isinstance(value, bool)

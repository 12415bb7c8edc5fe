"""The pencil editor's form: one small form per field, its input chosen by the field's kind.

Every editable field of the registry (built-in or custom) gets its input from its kind
(``Kind.editor_formfield``), so a new custom attribute is editable the moment it exists: a text
input, a number input (``inputmode="decimal"``), a switch, a date/time/zone input or a chip
editor (``contacts.kinds.widgets``).

The form carries the value the editor showed, JSON-encoded in ``expected`` so that numbers,
booleans and lists come back as they were; the service refuses the save when the stored value
differs from it (another person changed it meanwhile).
"""

from __future__ import annotations

import json
import zoneinfo
from typing import Any
from urllib.parse import unquote

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from contacts.fields import Field, attribute_key_for
from contacts.kinds import DEFAULT_TYPE, TYPE_CHOICES, CoercionError

TIME_ZONE_COOKIE = "tz"
# Offered by the time zone input; any zone the database knows is accepted.
COMMON_TIME_ZONES = (
    "UTC",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Riyadh",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)


def request_time_zone(cookies: dict[str, str]) -> zoneinfo.ZoneInfo:
    """The viewer's time zone: the browser's (set as a cookie by the page script), else the
    site's ``TIME_ZONE``. Only names the zone database knows are used."""
    name = unquote(cookies.get(TIME_ZONE_COOKIE, ""))
    if name and len(name) <= 64:
        try:
            return zoneinfo.ZoneInfo(name)  # refuses paths and unknown names
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            pass
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _encode(value: Any) -> str:
    return json.dumps(value, default=str)


class FieldEditorForm(forms.Form):
    """The edit state of one field row. ``value_for_service()`` is what gets saved."""

    expected = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *,
        field: Field,
        tz: zoneinfo.ZoneInfo,
        current: Any = None,
        data: Any = None,
        prefix: str | None = None,
        clearing: bool = False,
    ) -> None:
        self.field = field
        self.tz = tz
        self.clearing = clearing  # saving "no value": the inputs are not checked
        initial = {"expected": _encode(current), "value": field.kind.editor_initial(current, tz)}
        # Ids carry the field's key: two rows may be open for editing at the same time.
        super().__init__(data=data, initial=initial, prefix=prefix, auto_id=f"edit-{field.key}-%s")
        value_field = field.editor_formfield(tz)
        if clearing:  # "no value" is saved whatever the inputs hold: they are not checked
            value_field = forms.Field(required=False, widget=value_field.widget)
        self.fields["value"] = value_field
        value_field.widget.attrs["data-focus"] = ""

    @property
    def first_input_id(self) -> str:
        return self["value"].id_for_label

    # --- validation ---------------------------------------------------------------------------
    def add_error(self, field: str | None, error: Any) -> None:
        """Django's own messages ("Null characters are not allowed.") do not say which field
        they are about; in a page of field rows every message must."""
        if field == "value" and isinstance(error, ValidationError):
            label = self.field.label
            error = ValidationError(
                [m if m.startswith(label) else f"{label}: {m}" for m in error.messages]
            )
        super().add_error(field, error)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            cleaned["expected_value"] = json.loads(cleaned.get("expected") or "null")
        except json.JSONDecodeError:
            self.add_error(None, "The form was damaged; reload the page and try again.")
        if self.clearing:
            cleaned["value_coerced"] = None
        elif "value" in cleaned:
            try:
                cleaned["value_coerced"] = self._unless_unchanged(
                    self.field.parse(cleaned["value"]), cleaned.get("expected_value")
                )
            except CoercionError as exc:
                self.add_error("value", str(exc))
        return cleaned

    def _unless_unchanged(self, value: Any, expected: Any) -> Any:
        """``expected`` when ``value`` is what the editor showed for it.

        The editor shows a value at its own precision (a date-time to the minute): saved
        untouched, it must keep the stored seconds, so that the save changes nothing. The
        service still refuses ``expected`` if it is not the stored value.
        """
        kind = self.field.kind
        if expected is not None and kind.editor_initial(value, self.tz) == kind.editor_initial(
            expected, self.tz
        ):
            return expected
        return value

    def value_for_service(self) -> Any:
        return self.cleaned_data["value_coerced"]

    def expected_for_service(self) -> Any:
        return self.cleaned_data["expected_value"]

    def with_expected(self, current: Any) -> FieldEditorForm:
        """The same input, now expecting ``current``: the conflict's "overwrite" form."""
        data = self.data.copy()
        data[self.add_prefix("expected")] = _encode(current)
        return FieldEditorForm(
            field=self.field, tz=self.tz, data=data, prefix=self.prefix, clearing=self.clearing
        )

    @property
    def first_error_id(self) -> str:
        return f"{self.field.key}-error"


def editable(field: Field | None) -> bool:
    """Whether the pencil editor may change this field (tags have their own editor)."""
    return field is not None and field.editable and not field.kind.own_editor


class NewAttributeForm(forms.Form):
    """Step one of "+ Add Field": an attribute the contact lacks, or a new one."""

    NEW = "__new__"

    attribute = forms.ChoiceField(label="Field")
    label = forms.CharField(label="Label", required=False, max_length=100)
    type = forms.ChoiceField(
        label="Type", choices=TYPE_CHOICES, initial=DEFAULT_TYPE, required=False
    )

    def __init__(self, *args: Any, missing: list[Field], can_create: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing = {f.key: f for f in missing}
        choices = [(f.key, f.label) for f in missing]
        if can_create:
            choices.append((self.NEW, "New field…"))
        self.fields["attribute"].choices = [("", "Choose a field"), *choices]
        self.can_create = can_create
        for name in ("label",):
            self.fields[name].widget.attrs.update({"class": "form-control form-control-sm"})
        self.fields["attribute"].widget.attrs.update({"class": "form-select form-select-sm"})
        self.fields["type"].widget.attrs.update({"class": "form-select form-select-sm"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("attribute") == self.NEW:
            label = " ".join((cleaned.get("label") or "").split())
            if not label:
                self.add_error("label", "Label: give the new field a name")
            if not cleaned.get("type"):
                self.add_error("type", "Type: choose the new field's type")
            cleaned["label"] = label
        return cleaned

    def field_to_fill(self) -> Field:
        """The field whose value comes next; a new one is not created until its value is valid."""
        choice = self.cleaned_data["attribute"]
        if choice == self.NEW:
            return Field(
                key=attribute_key_for(self.cleaned_data["label"]),
                label=self.cleaned_data["label"],
                type=self.cleaned_data["type"],
                builtin=False,
            )
        return self.missing[choice]

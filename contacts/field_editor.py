"""The pencil editor's forms: one small form per field type, built from the field registry.

Every editable field of the registry (built-in or custom) gets its editor from its *type*, so
a new custom attribute is editable the moment it exists:

- text: a text input (``inputmode="email"`` for the email field);
- number: a text input with ``inputmode="decimal"``. Not ``type="number"``: a browser sends
  an empty string for "12a" in a number input, which would silently clear the value instead of
  showing "expected a number";
- boolean: a switch (a checkbox with ``role="switch"``);
- datetime: a date input, an optional time input and the time zone the time is in. An empty
  time stores a date-only value; a time is converted from that zone to UTC, the stored form;
- list: a chip editor (one hidden input per item, plus a text input for new items, split on
  ``;`` or ``,`` so that it works without JavaScript too).

The form carries the value the editor showed, JSON-encoded in ``expected`` so that numbers,
booleans and lists come back as they were; the service refuses the save when the stored value
differs from it (another person changed it meanwhile).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import unquote

from django import forms
from django.conf import settings

from contacts.coercion import CoercionError
from contacts.fields import TAGS, Field
from contacts.models import FieldType

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
_NO_EXPECTED: Any = object()
_LIST_SPLIT_RE = re.compile(r"[;,\n]")


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


def parse_stored_datetime(value: Any) -> date | datetime | None:
    """A stored datetime value (``YYYY-MM-DD`` or UTC ``...Z``, or a model datetime)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def display_value(field: Field, value: Any, tz: zoneinfo.ZoneInfo) -> str:
    """A value as people read it; date-times in the viewer's zone, with the zone shown."""
    if field.type == FieldType.DATETIME:
        parsed = parse_stored_datetime(value)
        if parsed is None:
            return "" if value in (None, "") else str(value)
        if isinstance(parsed, datetime):
            local = parsed.astimezone(tz)
            return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        return parsed.isoformat()
    if field.type == FieldType.NUMBER and isinstance(value, (int, float)):
        return f"{value:,}" if isinstance(value, int) else f"{value:,}".rstrip("0").rstrip(".")
    return field.display(value)


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
        initial: dict[str, Any] = {"expected": _encode(current)}
        initial.update(self.initial_for(current))
        # Ids carry the field's key: two rows may be open for editing at the same time.
        super().__init__(data=data, initial=initial, prefix=prefix, auto_id=f"edit-{field.key}-%s")
        self._add_value_fields()
        first = next(name for name in self.fields if name != "expected")
        self.fields[first].widget.attrs["data-focus"] = ""

    @property
    def first_input_id(self) -> str:
        first = next(name for name in self.fields if name != "expected")
        return self[first].id_for_label

    @property
    def items_name(self) -> str:
        """The name of the chip editor's hidden inputs (one per list item)."""
        return self.add_prefix("items")

    # --- per-type inputs ----------------------------------------------------------------------
    def _add_value_fields(self) -> None:
        label = self.field.label
        input_attrs = {"class": "form-control form-control-sm", "autocomplete": "off"}
        match self.field.type:
            case FieldType.NUMBER:
                self.fields["value"] = forms.CharField(
                    label=label,
                    required=False,
                    strip=False,
                    widget=forms.TextInput(attrs={**input_attrs, "inputmode": "decimal"}),
                )
            case FieldType.BOOLEAN:
                self.fields["value"] = forms.BooleanField(
                    label=label,
                    required=False,
                    widget=forms.CheckboxInput(
                        attrs={"class": "form-check-input", "role": "switch"}
                    ),
                )
            case FieldType.DATETIME:
                self.fields["value_date"] = forms.CharField(
                    label=label,
                    required=False,
                    widget=forms.DateInput(attrs={**input_attrs, "type": "date"}),
                )
                self.fields["value_time"] = forms.CharField(
                    label=f"{label} time",
                    required=False,
                    help_text="Leave empty for a date without a time.",
                    widget=forms.TimeInput(attrs={**input_attrs, "type": "time", "step": "60"}),
                )
                self.fields["tz"] = forms.CharField(
                    label="Time zone",
                    required=False,
                    widget=forms.TextInput(
                        attrs={**input_attrs, "list": "time-zones", "spellcheck": "false"}
                    ),
                )
            case FieldType.LIST:
                self.fields["new_item"] = forms.CharField(
                    label=label,
                    required=False,
                    help_text="Press Enter or type a comma to add an item.",
                    widget=forms.TextInput(
                        attrs={**input_attrs, "class": "form-control form-control-sm chip-input"}
                    ),
                )
            case _:
                attrs = dict(input_attrs)
                if self.field.key == "email":
                    attrs["inputmode"] = "email"
                self.fields["value"] = forms.CharField(
                    label=label, required=False, strip=False, widget=forms.TextInput(attrs=attrs)
                )

    def initial_for(self, current: Any) -> dict[str, Any]:
        match self.field.type:
            case FieldType.DATETIME:
                parsed = parse_stored_datetime(current)
                result: dict[str, Any] = {"tz": self.tz.key}
                if isinstance(parsed, datetime):
                    local = parsed.astimezone(self.tz)
                    result.update(value_date=local.date().isoformat(), value_time=f"{local:%H:%M}")
                elif isinstance(parsed, date):
                    result["value_date"] = parsed.isoformat()
                return result
            case FieldType.LIST:
                return {"items": list(current or [])}
            case FieldType.BOOLEAN:
                return {"value": bool(current)}
            case FieldType.NUMBER:
                return {"value": "" if current is None else str(current)}
        return {"value": "" if current is None else str(current)}

    @property
    def list_items(self) -> list[str]:
        """The chips to show: the submitted ones when re-showing the form, else the stored."""
        if self.field.type != FieldType.LIST:
            return []
        if self.is_bound:
            return [i for i in self.data.getlist(self.add_prefix("items")) if i.strip()]
        return list(self.initial.get("items") or [])

    # --- validation ---------------------------------------------------------------------------
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            cleaned["expected_value"] = json.loads(cleaned.get("expected") or "null")
        except json.JSONDecodeError:
            self.add_error(None, "The form was damaged; reload the page and try again.")
        if self.clearing:
            cleaned["value_coerced"] = None
            return cleaned
        if self.field.type == FieldType.LIST:
            items = list(self.list_items)
            items += _LIST_SPLIT_RE.split(cleaned.get("new_item") or "")
            raw: Any = [i.strip() for i in items if i.strip()]
            error_key = "new_item"
        elif self.field.type == FieldType.DATETIME:
            raw, error_key = self._clean_datetime(cleaned), "value_date"
            if raw is _NO_EXPECTED:
                return cleaned
        else:
            raw, error_key = cleaned.get("value"), "value"
        try:
            cleaned["value_coerced"] = self.field.coerce(raw)
        except CoercionError as exc:
            self.add_error(error_key, str(exc))
        return cleaned

    def _clean_datetime(self, cleaned: dict[str, Any]) -> Any:
        day = (cleaned.get("value_date") or "").strip()
        clock = (cleaned.get("value_time") or "").strip()
        zone_name = (cleaned.get("tz") or "").strip() or self.tz.key
        if not day and not clock:
            return None
        if not day:
            self.add_error("value_date", f"{self.field.label}: enter a date for the time {clock}")
            return _NO_EXPECTED
        try:
            parsed_day = date.fromisoformat(day)
        except ValueError:
            self.add_error("value_date", f'{self.field.label}: not a real date (got "{day}")')
            return _NO_EXPECTED
        if not clock:
            return parsed_day.isoformat()
        try:
            parsed_time = time.fromisoformat(clock)
        except ValueError:
            self.add_error("value_time", f'{self.field.label}: not a real time (got "{clock}")')
            return _NO_EXPECTED
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            self.add_error("tz", f'Time zone: unknown zone "{zone_name}" (e.g. Asia/Kolkata)')
            return _NO_EXPECTED
        local = datetime.combine(parsed_day, parsed_time.replace(tzinfo=None), tzinfo=zone)
        return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

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
    return field is not None and field.editable and field.key != TAGS


class NewAttributeForm(forms.Form):
    """Step one of "+ Add Field": an attribute the contact lacks, or a new one."""

    NEW = "__new__"

    attribute = forms.ChoiceField(label="Field")
    label = forms.CharField(label="Label", required=False, max_length=100)
    type = forms.ChoiceField(
        label="Type", choices=FieldType.choices, initial=FieldType.TEXT, required=False
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
            from contacts.fields import attribute_key_for

            return Field(
                key=attribute_key_for(self.cleaned_data["label"]),
                label=self.cleaned_data["label"],
                type=self.cleaned_data["type"],
                builtin=False,
            )
        return self.missing[choice]

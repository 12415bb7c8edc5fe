"""The pencil editor's composite inputs: a date, time and zone input, and a chip list.

Each is one form field ("value") whose widget draws several inputs from its own template, with
the names the page has always posted (``value_date``/``value_time``/``tz``, ``items``/
``new_item``, under the form's prefix), so that the page's script and old forms keep working.
"""

from __future__ import annotations

from typing import Any

from django import forms

from contacts.kinds.base import INPUT_ATTRS

FIELD_NAME = "value"


def _named(name: str, suffix: str) -> str:
    """The input ``suffix`` beside the form field ``name`` (``new-value`` -> ``new-tz``)."""
    return name[: len(name) - len(FIELD_NAME)] + suffix


def _getlist(data: Any, name: str) -> list[str]:
    return data.getlist(name) if hasattr(data, "getlist") else list(data.get(name) or [])


class DateTimeZoneWidget(forms.MultiWidget):
    """A date input, an optional time input and the time zone the time is in."""

    template_name = "contacts/widgets/datetime_zone.html"
    suffixes = ("value_date", "value_time", "tz")

    def __init__(self, label: str = "") -> None:
        self.label = label
        widgets = (
            forms.DateInput({**INPUT_ATTRS, "type": "date"}),
            forms.TimeInput({**INPUT_ATTRS, "type": "time", "step": "60"}),
            forms.TextInput({**INPUT_ATTRS, "list": "time-zones", "spellcheck": "false"}),
        )
        super().__init__(widgets)

    def decompress(self, value: Any) -> list[str]:
        return list(value) if value else ["", "", ""]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = forms.Widget.get_context(self, name, value, attrs)
        values = value if isinstance(value, (list, tuple)) else self.decompress(value)
        shared = dict(context["widget"]["attrs"])
        focus = shared.pop("data-focus", None)
        id_ = shared.pop("id", None)
        subwidgets = []
        for index, (widget, suffix) in enumerate(zip(self.widgets, self.suffixes, strict=True)):
            sub_attrs = dict(shared)
            if id_:
                sub_attrs["id"] = _named(id_, suffix)
            if index == 0 and focus is not None:
                sub_attrs["data-focus"] = focus
            sub_value = values[index] if index < len(values) else ""
            subwidgets.append(widget.get_context(_named(name, suffix), sub_value, sub_attrs))
        context["widget"]["subwidgets"] = [s["widget"] for s in subwidgets]
        context["widget"]["label"] = self.label
        return context

    def id_for_label(self, id_: str) -> str:
        return _named(id_, self.suffixes[0]) if id_ else id_

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str | None]:
        return [data.get(_named(name, suffix)) for suffix in self.suffixes]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return all(_named(name, suffix) not in data for suffix in self.suffixes)


class ChipListWidget(forms.Widget):
    """One chip (with a hidden input) per item, and a text input for new items."""

    template_name = "contacts/widgets/chip_list.html"
    text_input = forms.TextInput(
        {**INPUT_ATTRS, "class": "form-control form-control-sm chip-input"}
    )

    def __init__(self, label: str = "") -> None:
        self.label = label
        super().__init__()

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if isinstance(value, dict):  # re-shown after a problem: what was submitted
            items, typed = [i for i in value["items"] if i.strip()], value["typed"] or ""
        else:
            items, typed = list(value or []), ""
        attrs = dict(context["widget"]["attrs"])
        if attrs.get("id"):
            attrs["id"] = self.id_for_label(attrs["id"])
        text = self.text_input.get_context(_named(name, "new_item"), typed, attrs)
        context["widget"].update(
            items=items,
            items_name=_named(name, "items"),
            label=self.label,
            text_input=text["widget"],
        )
        return context

    def format_value(self, value: Any) -> Any:
        return value

    def id_for_label(self, id_: str) -> str:
        return _named(id_, "new_item") if id_ else id_

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        return {
            "items": _getlist(data, _named(name, "items")),
            "typed": data.get(_named(name, "new_item")),
        }

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return _named(name, "items") not in data and _named(name, "new_item") not in data

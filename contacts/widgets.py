"""Inputs of the contact pages that draw more than one plain input: the tag combobox, the
Columns panel's reorderable checkboxes and the merge page's table of radios.

Each keeps the names, ids and attributes the pages' scripts and tests use.
"""

from __future__ import annotations

from typing import Any

from django import forms


class ComboboxInput(forms.TextInput):
    """A text input that asks the server for suggestions as you type (htmx) and shows them
    in the list box ``listbox_id``, announced as an ARIA combobox."""

    template_name = "contacts/widgets/combobox.html"

    def __init__(
        self, *, suggestions_url: str, listbox_id: str, attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(
            {
                "role": "combobox",
                "aria-autocomplete": "list",
                "aria-controls": listbox_id,
                "aria-expanded": "false",
                "hx-get": suggestions_url,
                "hx-trigger": "input changed delay:200ms",
                "hx-target": f"#{listbox_id}",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
                **(attrs or {}),
            }
        )


class ColumnChoices(forms.CheckboxSelectMultiple):
    """One row per field: a drag handle, a checkbox (``col-<key>``), the label, and buttons
    that move the row up or down (``contact-list.js``); the rows' order is the columns'."""

    template_name = "contacts/widgets/column_choices.html"
    option_template_name = "contacts/widgets/column_choice.html"

    def __init__(self) -> None:
        super().__init__({"class": "form-check-input m-0"})
        self.notes: dict[str, str] = {}  # key -> what follows the label, e.g. "(number)"

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["id"] = f"col-{value}"
        option["note"] = self.notes.get(str(value), "")
        return option


class PickTable(forms.Widget):
    """The merge page's side-by-side table: a row per field, a radio per contact's value
    (named ``pick_<key>``), the survivor's column marked."""

    template_name = "contacts/widgets/pick_table.html"

    def __init__(self) -> None:
        super().__init__()
        self.contacts: list[Any] = []  # the table's columns, the survivor first
        self.survivor_id: int | None = None
        # (key, label, [(contact id, shown value)]) for each field whose values differ
        self.rows: list[tuple[str, str, list[tuple[int, str]]]] = []

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        picked = value or {}
        context["widget"].update(
            contacts=self.contacts,
            survivor_id=self.survivor_id,
            rows=[
                {
                    "key": key,
                    "label": label,
                    "cells": [
                        {
                            "shown": shown,
                            "radio": {
                                "type": "radio",
                                "name": f"pick_{key}",
                                "value": pk,
                                "attrs": {
                                    "class": "form-check-input",
                                    "checked": str(picked.get(key)) == str(pk),
                                },
                            },
                        }
                        for pk, shown in cells
                    ],
                }
                for key, label, cells in self.rows
            ],
        )
        return context

    def format_value(self, value: Any) -> Any:
        return value

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, str]:
        return {
            key: data[f"pick_{key}"] for key, _label, _cells in self.rows if f"pick_{key}" in data
        }

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(f"pick_{key}" in data for key, _label, _cells in self.rows)

"""The contact list's Columns panel: which fields are columns, in which order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field as LayoutField
from crispy_forms.layout import Layout
from django import forms
from django.urls import reverse_lazy

from contacts.fields import Field, FieldRegistry
from contacts.widgets import ColumnChoices


class ColumnKeysField(forms.MultipleChoiceField):
    """Field keys in the order ticked. A key whose field was deleted since the panel was
    drawn drops out rather than refusing the rest."""

    def to_python(self, value: Any) -> list[str]:
        return [key for key in super().to_python(value) if self.valid_value(key)]


class ColumnsForm(forms.Form):
    """The shown columns first (ticked, in order), then the other fields; the rows'
    order, which the panel's buttons and drag change, is the columns' order."""

    columns = ColumnKeysField(label="Columns", required=False, widget=ColumnChoices)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        registry: FieldRegistry,
        shown: Sequence[Field] = (),
        hidden: Sequence[Field] = (),
        **kwargs: Any,
    ) -> None:
        kwargs["initial"] = {"columns": [f.key for f in shown], **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        # Any field of the registry is a column; the panel lists those given, in order.
        self.fields["columns"].choices = [(f.key, f.label) for f in registry]
        widget = self.fields["columns"].widget
        widget.choices = [(f.key, f.label) for f in (*shown, *hidden)]
        widget.notes = {f.key: f"({f.type})" for f in (*shown, *hidden) if not f.builtin}
        self.helper = FormHelper()
        self.helper.form_id = "columns-form"
        self.helper.form_action = reverse_lazy("contacts:list-columns")
        self.helper.form_show_labels = False  # the panel's title names it
        self.helper.attrs = {"hx-post": reverse_lazy("contacts:list-columns"), "hx-swap": "none"}
        self.helper.layout = Layout(
            "next",
            LayoutField("columns", template="layout/bare_field.html"),
            StrictButton(
                "Apply columns",
                type="submit",
                css_class="btn-primary btn-sm",
                data_bs_dismiss="offcanvas",
            ),
        )

"""The merge page's forms: choose the survivor, then pick each differing field's value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crispy_forms.bootstrap import FieldWithButtons, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Layout
from crispy_forms.layout import Field as LayoutField
from django import forms
from django.urls import reverse_lazy

from contacts.models import Contact
from contacts.selectors import id_param
from contacts.widgets import PickTable

# A field whose values differ: its key, its label and each contact's (id, value as shown).
PickRow = tuple[str, str, list[tuple[int, str]]]


class ContactIdsField(forms.TypedMultipleChoiceField):
    """Contact ids; which of them exist is the page's to find out."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return id_param(str(value)) is not None


class SurvivorForm(forms.Form):
    """The contacts to merge and the one that survives (a GET: the page is drawn again)."""

    ids = ContactIdsField(widget=forms.MultipleHiddenInput)
    # Checked against the contacts by the page, which falls back to the first one.
    survivor = forms.IntegerField(
        label="Survivor",
        required=False,
        widget=forms.Select(
            attrs={"class": "form-select form-select-sm w-auto", "data-testid": "survivor"}
        ),
    )

    def __init__(self, *args: Any, contacts: Sequence[Contact] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")  # the select's id is "survivor"
        super().__init__(*args, **kwargs)
        self.fields["survivor"].widget.choices = [(c.pk, f"#{c.pk} {c}") for c in contacts]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "mb-3"
        self.helper.layout = Layout(
            "ids",
            FieldWithButtons(
                "survivor",
                StrictButton("Choose", type="submit", css_class="btn-sm btn-outline-secondary"),
                css_class="d-flex gap-2",
                template="layout/field_with_buttons.html",
            ),
        )


class PicksField(forms.Field):
    """For each differing field, the contact whose value the survivor keeps. A field left
    out keeps the default (the survivor's value if it has one)."""

    widget = PickTable

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self._rows: list[PickRow] = []

    @property
    def rows(self) -> list[PickRow]:
        return self._rows

    @rows.setter
    def rows(self, rows: list[PickRow]) -> None:
        self._rows = self.widget.rows = rows

    def to_python(self, value: Any) -> dict[str, int]:
        picks: dict[str, int] = {}
        problems = []
        for key, label, cells in self.rows:
            if key not in (value or {}):
                continue
            ids = {str(pk): pk for pk, _shown in cells}
            if value[key] not in ids:
                problems.append(f"{label}: choose one of the contacts' values")
            else:
                picks[key] = ids[value[key]]
        if problems:
            raise forms.ValidationError(problems)
        return picks


class MergeForm(SurvivorForm):
    """The merge itself: the contacts (with the versions shown, so that a contact changed
    meanwhile is not merged blindly), the survivor and the picked values."""

    picks = PicksField(label="Values")

    def __init__(
        self,
        *args: Any,
        survivor: Contact,
        others: Sequence[Contact],
        rows: list[PickRow],
        defaults: dict[str, int],
        **kwargs: Any,
    ) -> None:
        contacts = [survivor, *others]
        kwargs.setdefault("auto_id", "merge-%s")  # beside the survivor form's ids on the page
        kwargs["initial"] = {
            "ids": [c.pk for c in contacts],
            "survivor": survivor.pk,
            "picks": defaults,
        }
        super().__init__(*args, contacts=contacts, **kwargs)
        self.fields["survivor"].widget = forms.HiddenInput()
        for contact in contacts:
            self.fields[f"version_{contact.pk}"] = forms.IntegerField(
                required=False, min_value=0, initial=contact.version, widget=forms.HiddenInput
            )
        picks = self.fields["picks"]
        picks.rows = rows
        picks.widget.contacts, picks.widget.survivor_id = contacts, survivor.pk
        self.helper = FormHelper()
        self.helper.form_action = reverse_lazy("contacts:merge")
        self.helper.form_show_labels = False  # the table's header names the columns
        self.helper.layout = Layout(
            "survivor",
            "ids",
            *(f"version_{c.pk}" for c in contacts),
            LayoutField("picks", template="layout/bare_field.html"),
            StrictButton(
                f"Merge into #{survivor.pk}",
                type="submit",
                css_class="btn-danger",
                data_testid="merge-submit",
            ),
            HTML('<a class="btn btn-link" href="{% url \'contacts:duplicates\' %}">Cancel</a>'),
        )

    def versions(self) -> dict[int, int]:
        """The version of each contact the page showed, for the merge's check."""
        return {
            int(name.removeprefix("version_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("version_") and value is not None
        }

"""The contact page's tag form: a combobox that suggests tags as you type."""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import FieldWithButtons, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.urls import reverse

from contacts.widgets import ComboboxInput

TAG_NAME_MAX_LENGTH = 100  # Tag.name's; longer names are refused by the service, with why


class TagAddForm(forms.Form):
    """The tag to link (an existing one in any case, else a new one). A blank name is
    refused here; the rest of a tag name's rules are the service's."""

    # Not required: clean_name() says what is missing, naming the field.
    name = forms.CharField(label="Add a tag", required=False, strip=False)

    def __init__(self, *args: Any, contact_pk: int, focus: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attrs: dict[str, Any] = {
            "id": "tag-input",  # the page's script and tests use it
            "maxlength": TAG_NAME_MAX_LENGTH,
            "placeholder": "Add a tag…",
        }
        if focus:
            attrs["data-focus"] = ""
        self.fields["name"].widget = ComboboxInput(
            suggestions_url=reverse("contacts:tag-suggestions", args=[contact_pk]),
            listbox_id="tag-suggestions",
            attrs=attrs,
        )
        self.helper = FormHelper()
        self.helper.form_class = "tag-add-form"
        self.helper.disable_csrf = True  # htmx sends the CSRF token as a header (base.html)
        self.helper.label_class = "visually-hidden"
        self.helper.attrs = {
            "hx-post": reverse("contacts:tag-add", args=[contact_pk]),
            "hx-target": "#contact-tags",
            "hx-swap": "outerHTML",
            "autocomplete": "off",
            "novalidate": "",
        }
        self.helper.layout = Layout(
            FieldWithButtons(
                "name",
                StrictButton("Add", type="submit", css_class="btn-outline-primary"),
                css_class="input-group input-group-sm",
                template="layout/field_with_buttons.html",
            )
        )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Tags: type a tag name")
        return name

"""Forms of the contact list: new contact, add filter, columns, saved view and bulk actions.

Forms parse and check the shape of input; values are checked against their field types by
``contacts.services`` (new contact) or ``contacts.filters`` (filters), whose messages name
the field and the problem.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from contacts.fields import FieldRegistry
from contacts.filters import FilterError, build_filter, operators_for
from contacts.selectors import id_param

TRAIT_PREFIX = "trait__"


def _country_code_default() -> str:
    import phonenumbers

    code = phonenumbers.country_code_for_region(settings.CONTACTHUB_DEFAULT_REGION)
    return str(code) if code else ""


class NewContactForm(forms.Form):
    """Name, phone with country code, email, WhatsApp opted, tags and every custom attribute."""

    name = forms.CharField(max_length=255, required=False)
    country_code = forms.CharField(
        max_length=6,
        required=False,
        label="Country code",
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "91", "size": 4}),
    )
    phone_number = forms.CharField(
        max_length=30,
        required=False,
        label="Phone number",
        widget=forms.TextInput(attrs={"inputmode": "tel", "placeholder": "98765 43210"}),
        help_text="With its country code, or written with + and the code.",
    )
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput())
    user_id = forms.CharField(
        max_length=255, required=False, label="User id", help_text="The id in your other system."
    )
    whatsapp_opted = forms.BooleanField(required=False, label="WhatsApp opted")
    tags = forms.CharField(required=False, help_text="Separate tags with commas.", max_length=2000)

    def __init__(self, *args: Any, registry: FieldRegistry, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"country_code": _country_code_default()})
        super().__init__(*args, **kwargs)
        self.registry = registry
        for f in registry.custom:
            self.fields[TRAIT_PREFIX + f.key] = f.formfield()

    @property
    def trait_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(TRAIT_PREFIX)]

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``services.contact_create`` (values keyed by field key)."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"],
            "email": data["email"],
            "whatsapp_opted": data["whatsapp_opted"],
        }
        for name, value in data.items():
            if name.startswith(TRAIT_PREFIX) and value not in ("", None):
                values[name.removeprefix(TRAIT_PREFIX)] = value
        tags = [t.strip() for t in data["tags"].replace(";", ",").split(",") if t.strip()]
        return {
            "phone_number": data["phone_number"] or None,
            "country_code": data["country_code"] or None,
            "user_id": data["user_id"] or None,
            "values": values,
            "tags": tags,
        }

    def form_field_for(self, key: str) -> str:
        """The form field that shows a service error about ``key``."""
        if key in self.fields:
            return key
        if TRAIT_PREFIX + key in self.fields:
            return TRAIT_PREFIX + key
        return "phone_number" if key in ("phone", "phoneNumber") else "__all__"


class AddFilterForm(forms.Form):
    """The "Add filter" row: field, operator and one or two values."""

    field = forms.ChoiceField(label="Field")
    op = forms.ChoiceField(label="Operator")
    value = forms.CharField(required=False, label="Value")
    value2 = forms.CharField(required=False, label="and")

    def __init__(
        self, *args: Any, registry: FieldRegistry, field_key: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry
        self.fields["field"].choices = [(f.key, f.label) for f in registry]
        chosen = registry.get(field_key or "") or registry.fields[0]
        self.chosen_field = chosen
        self.fields["field"].initial = chosen.key
        self.fields["op"].choices = [(op.key, op.label) for op in operators_for(chosen)]
        self.operators = operators_for(chosen)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        f = self.registry.get(data.get("field", ""))
        if f is None:
            raise forms.ValidationError("Choose a field to filter on.")
        self.fields["op"].choices = [(op.key, op.label) for op in operators_for(f)]
        try:
            values = f.kind.filter_form_values(data.get("value", ""), data.get("value2", ""))
            data["filter"] = build_filter(f, self.data.get("op", ""), values)
        except FilterError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=100, label="View name")
    shared = forms.BooleanField(required=False, label="Share with the team")

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the view a name.")
        return name


BULK_ACTIONS = {
    "tags_add": "Add tags",
    "tags_remove": "Remove tags",
    "export": "Export CSV",
    "delete": "Delete",
}
# The permission each bulk action needs (also to follow its progress page).
BULK_PERMISSIONS = {
    "tags_add": "contacts.change_contact",
    "tags_remove": "contacts.change_contact",
    "export": "contacts.view_contact",
    "delete": "contacts.delete_contact",
}


class BulkActionForm(forms.Form):
    """Which contacts (ticked ids, or every contact matching the list's state) and what to do."""

    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()))
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    all = forms.BooleanField(required=False, label="All matching contacts")
    tags = forms.CharField(required=False, max_length=2000, help_text="Separate tags with commas.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any integer id is acceptable here: the selector decides what exists.
        self.fields["ids"].valid_value = lambda value: id_param(str(value)) is not None  # type: ignore[method-assign]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Nothing ticked means every contact matching the list (the confirmation says so).
        if not data.get("ids"):
            data["all"] = True
        return data

    @property
    def tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "")
        return [t.strip() for t in raw.replace(";", ",").split(",") if t.strip()]

"""Forms of the contact list: new contact, add filter, columns, saved view and bulk actions.

Forms parse and check the shape of input; values are checked against their field types by
``contacts.services`` (new contact) or ``contacts.filters`` (filters), whose messages name
the field and the problem.
"""

from __future__ import annotations

from typing import Any

from crispy_bootstrap5.bootstrap5 import Switch
from crispy_forms import layout
from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.urls import reverse_lazy

from contacts.fields import FieldRegistry
from contacts.filtering import MAX_GROUPS
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
        self.helper = self._layout()

    def _layout(self) -> FormHelper:
        helper = FormHelper()
        helper.form_class = "card card-body new-contact-form"
        helper.attrs = {"novalidate": ""}
        traits = [name for name in self.fields if name.startswith(TRAIT_PREFIX)]
        helper.layout = Layout(
            Row(
                Column("name", css_class="col-md-6"),
                Column("email", css_class="col-md-6"),
                Column("country_code", css_class="col-4 col-md-2"),
                Column("phone_number", css_class="col-8 col-md-4"),
                Column("user_id", css_class="col-md-6"),
                Column("tags", css_class="col-md-6"),
                Column(Switch("whatsapp_opted"), css_class="col-md-6 d-flex align-items-end"),
                css_class="g-3",
            ),
            *(
                [
                    HTML('<h2 class="h6 mt-4">Custom fields</h2>'),
                    Row(*(Column(n, css_class="col-md-4") for n in traits), css_class="g-3"),
                ]
                if traits
                else []
            ),
            Div(
                Submit("submit", "Create contact"),
                HTML(
                    '<a href="{% url \'contacts:list\' %}" class="btn btn-outline-secondary">'
                    "Cancel</a>"
                ),
                css_class="mt-4 d-flex gap-2",
            ),
        )
        return helper

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


class ListSearchForm(forms.Form):
    """The list's search box: searches as you type, with the list's state (htmx)."""

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "id": "list-search",
                "class": "form-control-sm",
                "placeholder": "Name, phone, email or user id",
                "autocomplete": "off",
                "hx-get": reverse_lazy("contacts:list"),
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#results",
                "hx-swap": "outerHTML",
                "hx-include": "#list-state",
                "hx-sync": "this:replace",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # not a form: htmx sends it with the list's state
        self.helper.disable_csrf = True
        self.helper.label_class = "small mb-1"
        self.helper.layout = Layout("q")


class OperatorSelect(forms.Select):
    """Operator options carrying how many values each takes and of what kind, for the JS."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.operators: dict[str, Any] = {}

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if (op := self.operators.get(str(value))) is not None:
            option["attrs"].update({"data-arity": op.arity, "data-kind": op.value_kind})
        return option


# The "Add filter" inputs' parameter names start with this (nf_field, nf_op...).
NEW_FILTER_PREFIX = "nf_"


class AddFilterForm(forms.Form):
    """The "Add filter" row: field, operator and one or two values (``nf_*`` parameters)."""

    # Not required: clean() names what is missing.
    field = forms.ChoiceField(label="Filter on", required=False)
    op = forms.ChoiceField(
        label="Operator",
        required=False,
        widget=OperatorSelect(attrs={"data-filter-operator": ""}),
    )
    value = forms.CharField(required=False, label="Value")
    value2 = forms.CharField(required=False, label="and")
    # Checked in clean(), so that a bad number is shown like the other filter errors.
    group = forms.CharField(label="In", required=False, widget=forms.Select)

    def __init__(
        self,
        *args: Any,
        registry: FieldRegistry,
        field_key: str | None = None,
        groups: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry
        # Group numbers past the last open a new group (FilterTree.with_condition).
        choices = [(n, f"group {n + 1}") for n in range(max(groups, 1))]
        if 0 < groups < MAX_GROUPS:
            choices.append((groups, "a new group"))
        self.fields["group"].widget.choices = choices
        # Drawn beside the filter groups (in the list's results), yet sent with this form.
        self.fields["group"].widget.attrs.update(
            {"form": "add-filter-form", "class": "form-select form-select-sm w-auto"}
        )
        self.fields["field"].choices = [(f.key, f.label) for f in registry.pickable]
        chosen = registry.get(field_key or "") or registry.fields[0]
        self.fields["field"].initial = chosen.key
        self.operators = operators_for(chosen)
        self.fields["op"].choices = [(op.key, op.label) for op in self.operators]
        self.fields["op"].widget.operators = {op.key: op for op in self.operators}
        for name, form_field in self.fields.items():
            form_field.widget.attrs["id"] = f"nf-{name}"  # the page's JS and tests use these
        for name in ("value", "value2"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        if placeholder := chosen.kind.filter_placeholder:
            self.fields["value"].widget.attrs["placeholder"] = placeholder
        self.helper, self.inputs_helper = filter_form_helpers()

    def add_prefix(self, field_name: str) -> str:
        # The row's inputs travel with the list's own parameters (q, f, sort...).
        return f"{NEW_FILTER_PREFIX}{field_name}"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        f = self.registry.get(data.get("field", ""))
        if f is None:
            raise forms.ValidationError("Choose a field to filter on.")
        self.fields["op"].choices = [(op.key, op.label) for op in operators_for(f)]
        try:
            values = f.kind.filter_form_values(data.get("value", ""), data.get("value2", ""))
            data["filter"] = build_filter(f, self.data.get(self.add_prefix("op"), ""), values)
        except FilterError as exc:
            raise forms.ValidationError(str(exc)) from None
        group = id_param(data.get("group") or "0")
        if group is None or group >= MAX_GROUPS:
            raise forms.ValidationError(f"Filter group: choose one of groups 1 to {MAX_GROUPS}.")
        data["group"] = group
        return data


def filter_form_helpers() -> tuple[FormHelper, FormHelper]:
    """The "Add filter" form's layout, and the operator-and-values part that htmx swaps in
    when another field is chosen."""
    small = {"css_class": "form-select-sm"}
    inputs = Div(
        layout.Field("op", **small),
        Div(
            layout.Field("value", css_class="form-control-sm"),
            data_filter_value="",
        ),
        Div(
            layout.Field("value2", css_class="form-control-sm"),
            data_filter_value2="",
            hidden="",
        ),
        css_id="filter-inputs",
        css_class="d-flex flex-wrap gap-2 align-items-end",
    )
    helper = FormHelper()
    helper.form_id = "add-filter-form"
    helper.form_method = "get"
    helper.form_action = reverse_lazy("contacts:list")
    helper.form_class = "d-flex flex-wrap gap-2 align-items-end"
    helper.label_class = "small mb-1"
    helper.attrs = {
        "hx-get": reverse_lazy("contacts:list"),
        "hx-target": "#results",
        "hx-swap": "outerHTML",
        "hx-include": "#list-state, #list-search",
    }
    helper.layout = Layout(
        layout.Field(
            "field",
            css_class="form-select-sm",
            hx_get=reverse_lazy("contacts:list-filter-inputs"),
            hx_trigger="change",
            hx_target="#filter-inputs",
            hx_swap="outerHTML",
            hx_include="this",
        ),
        inputs,
        StrictButton("Add filter", type="submit", css_class="btn-sm btn-outline-primary"),
    )
    inputs_helper = FormHelper()
    inputs_helper.form_tag = False
    inputs_helper.disable_csrf = True  # a GET form
    inputs_helper.label_class = "small mb-1"
    inputs_helper.layout = Layout(inputs)
    return helper, inputs_helper


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=100, label="View name")
    shared = forms.BooleanField(required=False, label="Share with the team")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "view-%s")
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the dialog's form (htmx, list state) is in the template
        self.helper.disable_csrf = True  # the surrounding form has its own, or is a GET
        self.helper.layout = Layout("name", "shared")

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
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        # Only the tag actions ask for input; the rest of the form is the list's state.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the surrounding form has its own, or is a GET
        self.helper.layout = Layout(
            layout.Field("tags", placeholder="VIP, Lead", required=True, autocomplete="off")
        )
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

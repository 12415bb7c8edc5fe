"""Settings > Fields: every field with its kind, value count and index; a custom field's
settings (rename, hide from pickers, index, change kind with a preview, delete).

Managers only: the page and every change need ``change_attribute``, deleting a field
``delete_attribute``. Long changes are background jobs (``contacts.services.field_changes``);
their progress is polled on the field's page.
"""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh
from django_tables2 import RequestConfig

from contacts.csv_cells import csv_lines
from contacts.fields import attribute_field, field_registry
from contacts.http import HtmxHttpRequest
from contacts.kinds import kind_for
from contacts.models import Attribute, FieldChange, FieldType
from contacts.selectors.field_values import (
    field_change_leftovers,
    field_kind_change_preview,
    field_values_unconverted,
)
from contacts.selectors.fields import field_changes_recent, fields_overview
from contacts.services import (
    Actor,
    ContactInputError,
    attribute_hide,
    attribute_update,
    field_delete_start,
    field_index_start,
    field_kind_change_start,
)
from contacts.tables import FieldsTable
from jobs.models import ACTIVE

PAGE = "contacts/field_settings.html"
FIELD_PAGE = "contacts/field_settings_field.html"
MANAGE = "contacts.change_attribute"


class RenameForm(forms.Form):
    label = forms.CharField(max_length=100, label="Label")

    def __init__(self, *args: Any, attribute: Attribute, **kwargs: Any) -> None:
        super().__init__(*args, initial={"label": attribute.label}, **kwargs)
        self.fields["label"].error_messages.update(
            required=f"{attribute.label}: the new label is required",
            max_length=f"{attribute.label}: a label is at most %(limit_value)d characters",
        )
        self.helper = _inline_helper(
            reverse("contacts:field-rename", args=[attribute.pk]), "label", "Rename"
        )


class KindForm(forms.Form):
    type = forms.ChoiceField(label="New kind")

    def __init__(self, *args: Any, attribute: Attribute, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [c for c in FieldType.choices if c[0] != attribute.type]
        self.fields["type"].error_messages.update(
            invalid_choice=f'{attribute.label}: "%(value)s" is not a kind it can change to',
            required=f"{attribute.label}: choose the new kind",
        )
        preview_url = reverse("contacts:field-kind-preview", args=[attribute.pk])
        self.helper = _inline_helper(preview_url, "type", "Preview")
        self.helper.attrs = {
            "hx-post": preview_url,
            "hx-target": "#kind-preview",
            "hx-swap": "outerHTML",
            "data-testid": "kind-form",
        }


class DeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the field's key to confirm", max_length=100)

    def __init__(self, *args: Any, attribute: Attribute, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attribute = attribute
        self.fields["confirm"].error_messages["required"] = (
            f'{attribute.label}: type "{attribute.key}" to delete this field'
        )
        self.helper = _inline_helper(
            reverse("contacts:field-delete", args=[attribute.pk]),
            "confirm",
            "Delete field and values",
            button_class="btn-danger",
        )

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.attribute.key:
            raise forms.ValidationError(
                f'{self.attribute.label}: type "{self.attribute.key}" to delete this field'
            )
        return typed


def _inline_helper(
    action: str, field_name: str, button: str, *, button_class: str = "btn-primary"
) -> FormHelper:
    helper = FormHelper()
    helper.form_action = action
    helper.attrs = {"novalidate": ""}
    helper.layout = Layout(
        Row(
            Column(field_name, css_class="col-sm-6"),
            Column(
                StrictButton(button, type="submit", css_class=f"{button_class} mt-sm-4"),
                css_class="col-auto",
            ),
            css_class="g-2 align-items-start",
        )
    )
    return helper


# --- Pages -----------------------------------------------------------------------------------


@require_GET
@permission_required(MANAGE, raise_exception=True)
def fields_page(request: HtmxHttpRequest) -> HttpResponse:
    """Every field, built-in and custom, and the latest changes."""
    registry = field_registry()
    table = FieldsTable(fields_overview(registry))
    RequestConfig(request, paginate=False).configure(table)
    context = {"table": table, "changes": field_changes_recent()}
    return render(request, PAGE, context)


def _field_page(
    request: HtmxHttpRequest, attribute: Attribute, status: int = 200, **forms_: Any
) -> HttpResponse:
    changes = list(attribute.changes.select_related("created_by").order_by("-created_at")[:5])
    context = {
        "attribute": attribute,
        "field": attribute_field(attribute),
        "kind_label": kind_for(attribute.type).label,
        "rename_form": forms_.get("rename_form") or RenameForm(attribute=attribute),
        "kind_form": forms_.get("kind_form") or KindForm(attribute=attribute),
        "delete_form": forms_.get("delete_form") or DeleteForm(attribute=attribute),
        "preview": forms_.get("preview"),
        "to_type": forms_.get("to_type", ""),
        "changes": changes,
        "active": next((c for c in changes if c.is_active), None),
    }
    return render(request, FIELD_PAGE, context, status=status)


@require_GET
@permission_required(MANAGE, raise_exception=True)
def field_settings(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A custom field's settings; while a change runs, htmx polls its progress here."""
    attribute = Attribute.objects.filter(pk=pk).first()
    if request.htmx:
        changes = attribute.changes.select_related("created_by") if attribute else None
        active = changes and changes.filter(status__in=ACTIVE).first()
        if not active:
            return HttpResponseClientRefresh()  # finished: show the field as it is now
        return render(request, f"{FIELD_PAGE}#progress", {"active": active})
    if attribute is None:
        messages.info(request, "That field no longer exists.")
        return HttpResponseRedirect(reverse("contacts:fields"))
    return _field_page(request, attribute)


def _attribute(pk: int) -> Attribute:
    return get_object_or_404(Attribute, pk=pk)


def _back(attribute: Attribute) -> HttpResponse:
    return HttpResponseRedirect(reverse("contacts:field-settings", args=[attribute.pk]))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def field_rename(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    attribute = _attribute(pk)
    form = RenameForm(request.POST, attribute=attribute)
    if form.is_valid():
        try:
            attribute_update(attribute_id=attribute.pk, label=form.cleaned_data["label"])
        except ContactInputError as exc:
            form.add_error("label", f"{attribute.label}: {exc.errors[0].message}")
        else:
            messages.success(request, f'Renamed to "{form.cleaned_data["label"]}".')
            return _back(attribute)
    return _field_page(request, attribute, status=422, rename_form=form)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def field_hide(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    attribute = _attribute(pk)
    hidden = request.POST.get("hidden") == "1"
    try:
        attribute_hide(attribute_id=attribute.pk, hidden=hidden)
    except ContactInputError as exc:
        messages.error(request, exc.message)
    else:
        where = "hidden from" if hidden else "shown again in"
        messages.success(request, f"{attribute.label} is {where} the pickers.")
    return _back(attribute)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def field_index(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    attribute = _attribute(pk)
    indexed = request.POST.get("indexed") == "1"
    try:
        field_index_start(actor=Actor.web(request.user), attribute_id=pk, indexed=indexed)
    except ContactInputError as exc:
        messages.error(request, exc.message)
    else:
        verb = "Building" if indexed else "Dropping"
        messages.info(request, f"{verb} the index of {attribute.label} in the background.")
    return _back(attribute)


@require_POST
@permission_required(MANAGE, raise_exception=True)
def field_kind_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """How many values would not convert, a few of them, and the download of them all."""
    attribute = _attribute(pk)
    form = KindForm(request.POST, attribute=attribute)
    preview, to_type = None, request.POST.get("type", "")
    if form.is_valid():
        try:
            preview = field_kind_change_preview(attribute=attribute, to_type=to_type)
        except ContactInputError as exc:
            form.add_error("type", exc.message)
    if request.htmx:
        # Answered inside the form's card: a refused kind is shown where the preview goes.
        context = {
            "attribute": attribute,
            "preview": preview,
            "to_type": to_type,
            "kind_form": form,
        }
        return render(request, f"{FIELD_PAGE}#kind-preview", context)
    status = 200 if preview is not None else 422
    return _field_page(
        request, attribute, status=status, kind_form=form, preview=preview, to_type=to_type
    )


@require_GET
@permission_required(MANAGE, raise_exception=True)
def field_kind_unconverted_csv(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The values that would not convert to ``?type=``, as CSV (streamed)."""
    attribute = _attribute(pk)
    to_type = request.GET.get("type", "")
    try:
        rows = field_values_unconverted(attribute=attribute, to_type=to_type)
        first = next(rows, None)
    except ContactInputError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    items = [] if first is None else [first]
    return _csv(attribute.key, kind_for(attribute.type), (*items, *rows), "not-converting")


@require_GET
@permission_required(MANAGE, raise_exception=True)
def field_change_leftovers_csv(request: HtmxHttpRequest, change_id: int) -> HttpResponse:
    """The values a finished kind change took off contacts because they did not convert."""
    change = get_object_or_404(
        FieldChange, pk=change_id, operation=FieldChange.Operation.CHANGE_KIND
    )
    rows = field_change_leftovers(change)
    return _csv(change.field_key, kind_for(change.from_type), rows, f"change-{change.pk}")


def _csv(key: str, source: Any, rows: Any, suffix: str) -> StreamingHttpResponse:
    header = ["contact_id", "phone", "user_id", key, "problem"]
    lines = (
        [str(r.contact_id), r.phone or "", r.user_id or "", source.export(r.value), r.problem]
        for r in rows
    )
    response = StreamingHttpResponse(
        csv_lines(_chain(header, lines)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{key}-{suffix}.csv"'
    return response


def _chain(header: list[str], lines: Any) -> Any:
    yield header
    yield from lines


@require_POST
@permission_required(MANAGE, raise_exception=True)
def field_kind_change(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    attribute = _attribute(pk)
    form = KindForm(request.POST, attribute=attribute)
    if not form.is_valid():
        return _field_page(request, attribute, status=422, kind_form=form)
    to_type = form.cleaned_data["type"]
    try:
        field_kind_change_start(actor=Actor.web(request.user), attribute_id=pk, to_type=to_type)
    except ContactInputError as exc:
        form.add_error("type", exc.message)
        return _field_page(request, attribute, status=422, kind_form=form)
    to_label = FieldType(to_type).label
    messages.info(request, f"Changing {attribute.label} to {to_label} in the background.")
    return _back(attribute)


@require_POST
@permission_required("contacts.delete_attribute", raise_exception=True)
def field_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    attribute = _attribute(pk)
    form = DeleteForm(request.POST, attribute=attribute)
    if not form.is_valid():
        return _field_page(request, attribute, status=422, delete_form=form)
    try:
        field_delete_start(actor=Actor.web(request.user), attribute_id=pk)
    except ContactInputError as exc:
        form.add_error("confirm", exc.message)
        return _field_page(request, attribute, status=422, delete_form=form)
    messages.info(request, f"Deleting {attribute.label} and its values in the background.")
    return _back(attribute)

"""The contact page and its pencil editor.

Each field is one ``field-row`` partial with a display state and an edit state. ``GET
.../fields/<key>/edit/`` returns the edit state; ``POST`` there saves through
``services.contact_field_update`` and returns the display state (or the edit state again with
the problem next to the input, or a conflict when someone else changed the field meanwhile).
``GET .../fields/<key>/`` returns the display state (Cancel, Escape, "keep theirs").

The contact list edits its cells with these same endpoints: with ``?in=list`` (and
``&link=1`` for the first column) they answer with a table cell's content instead of a row,
so the list and the page share one editor, one validation and one conflict rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from contacts import selectors, services
from contacts.field_editor import (
    COMMON_TIME_ZONES,
    FieldEditorForm,
    NewAttributeForm,
    editable,
    request_time_zone,
)
from contacts.fields import BUILTIN_BY_KEY, Field, FieldRegistry, field_registry
from contacts.http import HtmxHttpRequest
from contacts.models import Contact
from contacts.selectors.match import contact_id_resolve
from contacts.tables import CELL_PARAMS, cell_html
from contacts.views import detail_tags, detail_timeline

TEMPLATE = "contacts/contact_detail.html"
CELL_TEMPLATE = "contacts/table_cell.html"
CHANGED_EVENT = "contact-changed"


@dataclass(slots=True)
class FieldRow:
    """What the ``field-row`` partial needs, in either state."""

    contact: Contact
    field: Field
    value: Any
    display: str
    can_edit: bool
    form: FieldEditorForm | None = None
    conflict: str = ""
    focus: bool = False
    oob: bool = False

    @property
    def editing(self) -> bool:
        return self.form is not None


def _row(contact: Contact, field: Field, *, can_edit: bool, tz: ZoneInfo, **extra: Any) -> FieldRow:
    value = field.get(contact)
    return FieldRow(
        contact=contact,
        field=field,
        value=value,
        display=field.display(value, tz),
        can_edit=can_edit and editable(field),
        **extra,
    )


def page_rows(contact: Contact, registry: FieldRegistry, *, can_edit: bool, tz: ZoneInfo):
    """Every built-in field (tags have their own section), then the traits the contact has."""
    builtin = [f for f in registry.fields if f.builtin and not f.kind.own_editor]
    custom = [f for f in registry.custom if f.key in contact.traits]
    return [_row(contact, f, can_edit=can_edit, tz=tz) for f in (*builtin, *custom)]


def missing_fields(contact: Contact, registry: FieldRegistry) -> list[Field]:
    """Custom attributes the contact has no value for: what "+ Add Field" offers."""
    return [f for f in registry.custom if f.key not in contact.traits]


def _can_edit(request: HtmxHttpRequest) -> bool:
    return request.user.has_perm("contacts.change_contact")


def _contact_or_404(pk: int) -> Contact:
    try:
        return selectors.contact_page_contact(pk=pk)
    except Contact.DoesNotExist:
        raise Http404("No such contact") from None


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def contact_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    try:
        contact = selectors.contact_page_contact(pk=pk)
    except Contact.DoesNotExist:
        # A merged contact's page: the contact lives on as the survivor.
        if (survivor_id := contact_id_resolve(pk)) is not None:
            return redirect("contacts:detail", survivor_id)
        raise Http404("No such contact") from None
    registry = field_registry()
    tz = request_time_zone(request.COOKIES)
    can_edit = _can_edit(request)
    context = {
        "contact": contact,
        "rows": page_rows(contact, registry, can_edit=can_edit, tz=tz),
        "can_edit": can_edit,
        "can_add_field": can_edit
        and (
            bool(missing_fields(contact, registry))
            or request.user.has_perm("contacts.add_attribute")
        ),
        "tz": tz,
        "time_zone_choices": [z for z in COMMON_TIME_ZONES if z != tz.key],
        **detail_tags.tags_context(request, contact),
        **detail_timeline.timeline_context(
            contact, registry, tz, request.GET.get("activity_page"), can_restore=_can_edit(request)
        ),
    }
    return render(request, TEMPLATE, context)


def _field_or_404(key: str, registry: FieldRegistry) -> Field:
    field = registry.get(key)
    if field is None:
        raise Http404("No such field")
    return field


def _locked(field: Field) -> HttpResponse:
    return HttpResponseBadRequest(f"{field.label} cannot be changed.", content_type="text/plain")


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def field_display(request: HtmxHttpRequest, pk: int, key: str) -> HttpResponse:
    """The display state of one row (what Cancel and Escape bring back)."""
    contact = _contact_or_404(pk)
    field = _field_or_404(key, field_registry())
    tz = request_time_zone(request.COOKIES)
    if _in_list(request):
        return _cell_response(request, contact, field)
    if not field.builtin and field.key not in contact.traits:
        return HttpResponse("")  # cleared meanwhile: the row goes away
    row = _row(contact, field, can_edit=_can_edit(request), tz=tz, focus=True)
    return render(request, f"{TEMPLATE}#field-row", {"row": row})


def _in_list(request: HtmxHttpRequest) -> bool:
    return request.GET.get("in") == "list"


def _cell_params(request: HtmxHttpRequest) -> str:
    return CELL_PARAMS[request.GET.get("link") == "1"]


def _cell_response(request: HtmxHttpRequest, contact: Contact, field: Field) -> HttpResponse:
    """A list cell's display state: what the table draws, with its pencil."""
    link = request.GET.get("link") == "1"
    return HttpResponse(cell_html(field, contact, link=link, can_edit=_can_edit(request)))


def _render_row(request: HtmxHttpRequest, row: FieldRow) -> HttpResponse:
    if _in_list(request):
        context = {"row": row, "cell_params": _cell_params(request)}
        return render(request, CELL_TEMPLATE, context)
    return render(request, f"{TEMPLATE}#field-row", {"row": row})


@require_http_methods(["GET", "POST"])
@permission_required("contacts.change_contact", raise_exception=True)
def field_edit(request: HtmxHttpRequest, pk: int, key: str) -> HttpResponse:
    """GET: the edit state. POST: save, then the display state (or the edit state again)."""
    contact = _contact_or_404(pk)
    registry = field_registry()
    field = _field_or_404(key, registry)
    if not editable(field):
        return _locked(field)
    tz = request_time_zone(request.COOKIES)
    if request.method == "GET":
        form = FieldEditorForm(field=field, tz=tz, current=field.get(contact))
        return _render_row(request, _row(contact, field, can_edit=True, tz=tz, form=form))

    # "Remove from contact" clears a custom field whatever its input holds.
    clearing = bool(request.POST.get("clear")) and not field.builtin
    form = FieldEditorForm(field=field, tz=tz, data=request.POST, clearing=clearing)
    if not form.is_valid():
        return _render_row(request, _row(contact, field, can_edit=True, tz=tz, form=form))
    try:
        contact = services.contact_field_update(
            actor=services.Actor.web(request.user),
            contact_id=contact.pk,
            field_key=field.key,
            value=form.value_for_service(),
            expected_value=form.expected_for_service(),
            registry=registry,
        )
    except services.VersionConflict as conflict:
        shown = field.display(conflict.current_value, tz) or "(empty)"
        form = form.with_expected(conflict.current_value)
        row = _row(conflict.contact, field, can_edit=True, tz=tz, form=form, conflict=shown)
        return _render_row(request, row)
    except services.ServiceError as exc:
        form.add_error("value", _service_message(exc))
        return _render_row(request, _row(contact, field, can_edit=True, tz=tz, form=form))
    return _saved_response(request, contact, field, tz)


def _service_message(exc: services.ServiceError) -> str:
    if isinstance(exc, services.ContactInputError):
        return "; ".join(str(e) for e in exc.errors)
    return exc.message


def _saved_response(
    request: HtmxHttpRequest, contact: Contact, field: Field, tz: ZoneInfo
) -> HttpResponse:
    """The saved row's display state, with the heading and "Updated" row refreshed out of band
    and an event that makes the timeline reload (in the list: the saved cell)."""
    if _in_list(request):
        return _cell_response(request, contact, field)
    registry_updated = BUILTIN_BY_KEY["updated_at"]
    context = {
        "row": _row(contact, field, can_edit=True, tz=tz, focus=True),
        "contact": contact,
        "updated_row": _row(contact, registry_updated, can_edit=False, tz=tz, oob=True)
        if field.key != "updated_at"
        else None,
    }
    if not field.builtin and field.key not in contact.traits:
        context["row"] = None  # a cleared trait leaves the contact: its row goes away
    response = render(request, f"{TEMPLATE}#field-saved", context)
    return trigger_client_event(response, CHANGED_EVENT)


# --- + Add Field ----------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@permission_required("contacts.change_contact", raise_exception=True)
def field_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Step one: choose a field (or describe a new one); step two: its value.

    A new attribute is created only together with a valid first value, so an abandoned
    "+ Add Field" leaves no empty attribute behind.
    """
    contact = _contact_or_404(pk)
    registry = field_registry()
    can_create = request.user.has_perm("contacts.add_attribute")
    missing = missing_fields(contact, registry)
    tz = request_time_zone(request.COOKIES)
    context: dict[str, Any] = {"contact": contact, "can_add_field": True}
    if request.method == "GET":
        if request.GET.get("closed"):
            return render(request, f"{TEMPLATE}#add-field", {**context, "add_step": "closed"})
        chooser = NewAttributeForm(missing=missing, can_create=can_create)
        return render(request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser})

    chooser = NewAttributeForm(request.POST, missing=missing, can_create=can_create)
    if not chooser.is_valid():
        return render(request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser})
    field = chooser.field_to_fill()
    is_new = chooser.cleaned_data["attribute"] == NewAttributeForm.NEW
    if is_new and (existing := registry.resolve(field.label)) is not None:
        chooser.add_error("label", f'Label: a field called "{existing.label}" already exists')
        return render(request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser})
    if request.POST.get("step") != "value":
        form = FieldEditorForm(field=field, tz=tz, current=None, prefix="new")
        return render(
            request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser, "value_form": form}
        )
    form = FieldEditorForm(field=field, tz=tz, current=None, data=request.POST, prefix="new")
    if form.is_valid() and form.value_for_service() is None:
        form.add_error("value", f"{field.label}: enter a value")
    if not form.is_valid():
        return render(
            request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser, "value_form": form}
        )
    try:
        if is_new:
            attribute = services.attribute_create(
                label=field.label, type=field.type, created_by=request.user
            )
            field = field_registry()[attribute.key]
        contact = services.contact_field_update(
            actor=services.Actor.web(request.user),
            contact_id=contact.pk,
            field_key=field.key,
            value=form.value_for_service(),
            expected_value=None,
        )
    except services.VersionConflict as conflict:
        form.add_error(
            None,
            f"{field.label} was just set by someone else to "
            f'"{field.display(conflict.current_value, tz)}"; reload the page to see it.',
        )
        return render(
            request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser, "value_form": form}
        )
    except services.ServiceError as exc:
        chooser.add_error(None, _service_message(exc))
        return render(request, f"{TEMPLATE}#add-field", {**context, "chooser": chooser})
    row = _row(contact, field, can_edit=True, tz=tz, focus=True)
    response = render(request, f"{TEMPLATE}#field-added", {**context, "row": row})
    return trigger_client_event(response, CHANGED_EVENT)

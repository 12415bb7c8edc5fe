"""Bulk actions from the contact list: add/remove tags, export CSV, delete.

An action applies to the ticked rows, or, when none is ticked, to every contact matching the
list's current search and filters. ``GET`` returns a confirmation naming the count; ``POST``
does it through ``contacts.services`` and sends the browser back to the same list. Past
``CONTACTHUB_BULK_INLINE_LIMIT`` contacts it is queued as a background task instead, and the
browser goes to its progress page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from contacts import services
from contacts.fields import FieldRegistry, field_registry
from contacts.forms import BULK_ACTIONS, BULK_PERMISSIONS, BulkActionForm
from contacts.http import HtmxHttpRequest
from contacts.models import BulkAction, Contact
from contacts.selectors import (
    ListQuery,
    contact_list_for,
    list_columns,
    parse_list_query,
    recent_bulk_actions,
)
from contacts.services import Actor, ServiceError
from contacts.tables import export_columns, export_csv_lines
from contacts.views.contact_list import list_url

TEMPLATE = "contacts/contact_list.html"
PERMISSIONS = BULK_PERMISSIONS


def _targets(form: BulkActionForm, query: ListQuery, registry: FieldRegistry) -> QuerySet[Contact]:
    matching = contact_list_for(query, registry)
    if form.cleaned_data.get("ids") and not form.cleaned_data.get("all"):
        return matching.filter(pk__in=form.cleaned_data["ids"])
    return matching


@require_http_methods(["GET", "POST"])
@permission_required("contacts.view_contact", raise_exception=True)
def bulk_action(request: HtmxHttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    registry = field_registry()
    query = parse_list_query(data, registry)
    form = BulkActionForm(data)
    if not form.is_valid():
        return render(request, f"{TEMPLATE}#bulk-confirm", {"form": form, "query": query})
    action = form.cleaned_data["action"]
    if not request.user.has_perm(PERMISSIONS[action]):
        raise PermissionDenied
    targets = _targets(form, query, registry)
    context = {
        "form": form,
        "query": query,
        "action": action,
        "action_label": BULK_ACTIONS[action],
        "count": targets.count(),
        "selected": bool(form.cleaned_data.get("ids")) and not form.cleaned_data.get("all"),
        "ids": form.cleaned_data.get("ids") or [],
    }
    if request.method == "GET":
        return render(request, f"{TEMPLATE}#bulk-confirm", context)
    try:
        if action != "export" and context["count"] > services.bulk_inline_limit():
            job = services.bulk_action_start(
                actor=Actor.web(request.user),
                kind=action,
                contacts=targets,
                names=form.tag_names,
                return_url=list_url(query),
            )
            return HttpResponseClientRedirect(reverse("contacts:bulk-status", args=[job.pk]))
        message = _perform(request, action, form, targets)
    except ServiceError as exc:
        form.add_error("tags", exc.message)
        return render(request, f"{TEMPLATE}#bulk-confirm", context)
    messages.success(request, message)
    return HttpResponseClientRedirect(list_url(query))


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def bulk_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Progress of a bulk action that runs in the background (polled while it runs).

    A read only: a stalled action is resumed by the workers or ``manage.py resume_jobs``.
    """
    job = get_object_or_404(BulkAction, pk=pk)
    if not request.user.has_perm(PERMISSIONS[job.kind]):
        raise PermissionDenied
    context = {"job": job}
    if request.htmx:
        return render(request, "contacts/bulk_status.html#progress", context)
    return render(request, "contacts/bulk_status.html", context)


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def bulk_actions(request: HtmxHttpRequest) -> HttpResponse:
    """The latest background bulk actions, finished or not, of the kinds this user may run."""
    kinds = [kind for kind in BulkAction.Kind.values if request.user.has_perm(PERMISSIONS[kind])]
    if not kinds:  # a viewer runs no bulk action in the background
        raise PermissionDenied
    actions = recent_bulk_actions(kinds=kinds)
    context = {"actions": actions, "inline_limit": services.bulk_inline_limit()}
    return render(request, "contacts/bulk_actions.html", context)


def _perform(
    request: HtmxHttpRequest, action: str, form: BulkActionForm, targets: QuerySet[Contact]
) -> str:
    actor = Actor.web(request.user)
    if action in ("tags_add", "tags_remove") and not form.tag_names:
        raise ServiceError("Give at least one tag.", field="tags")
    if action == "tags_add":
        changed = services.contacts_tags_add_bulk(
            actor=actor, contacts=targets, names=form.tag_names
        )
        return f"Tags added to {changed:,} contact{'s' if changed != 1 else ''}."
    if action == "tags_remove":
        changed = services.contacts_tags_remove_bulk(
            actor=actor, contacts=targets, names=form.tag_names
        )
        return f"Tags removed from {changed:,} contact{'s' if changed != 1 else ''}."
    if action == "delete":
        deleted = services.contacts_delete(actor=actor, contacts=targets)
        return f"{deleted:,} contact{'s' if deleted != 1 else ''} deleted."
    raise ServiceError("Export is a download: use the Download button.")


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def export_csv(request: HtmxHttpRequest) -> StreamingHttpResponse | HttpResponse:
    """The visible columns of the chosen contacts as CSV, streamed a chunk of rows at a time."""
    registry = field_registry()
    query = parse_list_query(request.GET, registry)
    data = request.GET.copy()
    data["action"] = "export"
    form = BulkActionForm(data)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    columns = export_columns(list_columns(user=request.user, registry=registry), registry)
    contacts = _targets(form, query, registry).prefetch_related("tags").iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        export_csv_lines(contacts, columns), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response

"""The contact list's per-user settings: columns (shown and order) and saved views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from contacts import services
from contacts.column_forms import ColumnsForm
from contacts.fields import field_registry
from contacts.forms import SavedViewForm
from contacts.http import HtmxHttpRequest
from contacts.selectors import (
    columns_from_keys,
    list_columns,
    parse_list_query,
    query_from_saved,
    saved_view_get,
)

TEMPLATE = "contacts/contact_list.html"
LIST_CHANGED = "list-changed"


@require_http_methods(["GET", "POST"])
@permission_required("contacts.view_contact", raise_exception=True)
def columns(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the Columns panel's form, drawn when the panel opens rather than on every list
    page. POST: save the ticked columns in the order given."""
    if request.method == "POST":
        return _columns_save(request)
    registry = field_registry()
    shown = list_columns(user=request.user, registry=registry)
    keys = {f.key for f in shown}
    back = request.htmx.current_url_abs_path or request.GET.get("next", "")
    form = ColumnsForm(
        registry=registry,
        shown=shown,
        hidden=[f for f in registry.pickable if f.key not in keys],
        initial={"next": _same_site(request, back) or reverse("contacts:list")},
    )
    return render(request, "contacts/columns_panel.html", {"columns_form": form})


def _columns_save(request: HtmxHttpRequest) -> HttpResponse:
    """Save the ticked columns in the order given; the list reloads itself on the event."""
    registry = field_registry()
    form = ColumnsForm(request.POST, registry=registry)
    if not form.is_valid():
        problems = "; ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(f"Columns: {problems}", content_type="text/plain")
    columns = columns_from_keys(form.cleaned_data["columns"], registry)
    services.list_preference_save(user=request.user, columns=[f.key for f in columns])
    if request.htmx:
        return trigger_client_event(HttpResponse(status=204), LIST_CHANGED)
    return redirect(_same_site(request, form.cleaned_data["next"]) or reverse("contacts:list"))


def _same_site(request: HtmxHttpRequest, url: str) -> str:
    """``url`` if it stays on this site, else "": a form's ``next`` must not lead elsewhere."""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else ""


@require_POST
@permission_required("contacts.add_savedview", raise_exception=True)
def saved_view_save(request: HtmxHttpRequest) -> HttpResponse:
    """Save the list's search, filters, sort and the user's columns under a name."""
    registry = field_registry()
    query = parse_list_query(request.POST, registry)
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        return render(
            request, f"{TEMPLATE}#save-view-form", {"save_form": form, "query": query}, status=422
        )
    view = services.saved_view_save(
        owner=request.user,
        name=form.cleaned_data["name"],
        shared=form.cleaned_data["shared"],
        query=query.saved_query(),
        columns=[f.key for f in list_columns(user=request.user, registry=registry)],
    )
    messages.success(request, f'View "{view.name}" saved.')
    url = reverse("contacts:list") + query.querystring(page=None, view=view.pk)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def saved_view_open(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Open a saved view: its columns become the user's columns, its query the list's URL."""
    view = saved_view_get(user=request.user, view_id=pk)
    if view is None:
        raise Http404("No such view")
    registry = field_registry()
    if view.columns:
        columns = columns_from_keys(view.columns, registry)
        services.list_preference_save(user=request.user, columns=[f.key for f in columns])
    params = query_from_saved(view.query)
    query = parse_list_query(params, registry)
    for error in query.errors:
        messages.warning(request, f'View "{view.name}": {error}')
    return redirect(reverse("contacts:list") + query.querystring(view=view.pk))


@require_POST
@permission_required("contacts.delete_savedview", raise_exception=True)
def saved_view_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if not services.saved_view_delete(owner=request.user, view_id=pk):
        raise Http404("No such view of yours")
    messages.success(request, "View deleted.")
    url = reverse("contacts:list")
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)

"""The contact list page: search, filters, sort, columns and pages, all kept in the URL.

htmx requests (search as you type, filter chips, sort links, pages) get the ``results``
partial and an ``HX-Push-Url`` with the canonical URL, so Back and bookmarks work.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import push_url, replace_url
from django_tables2 import RequestConfig

from contacts.fields import FieldRegistry, field_registry
from contacts.forms import (
    BULK_PERMISSIONS,
    NEW_FILTER_PREFIX,
    AddFilterForm,
    ListSearchForm,
    SavedViewForm,
)
from contacts.http import HtmxHttpRequest
from contacts.pagination import ContactPaginator
from contacts.selectors import (
    PER_PAGE_CHOICES,
    ListQuery,
    contact_list_for,
    for_columns,
    list_columns,
    parse_list_query,
    running_bulk_actions,
    saved_views_for,
    search_note,
)
from contacts.tables import contact_table

TEMPLATE = "contacts/contact_list.html"


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    registry = field_registry()
    query = parse_list_query(request.GET, registry)
    adding_filter = f"{NEW_FILTER_PREFIX}field" in request.GET
    if adding_filter:
        _add_filter(request, query, registry)
        if not request.htmx and not query.errors:
            return redirect(list_url(query))
    context = list_context(request, query, registry)
    if request.htmx and not request.htmx.boosted:
        response = render(request, f"{TEMPLATE}#results", context)
        _set_history(request, response, list_url(query))
        return response
    kinds = [kind for kind, perm in BULK_PERMISSIONS.items() if request.user.has_perm(perm)]
    context["bulk_actions"] = running_bulk_actions(kinds=kinds)
    return render(request, TEMPLATE, context)


def _add_filter(request: HtmxHttpRequest, query: ListQuery, registry: FieldRegistry) -> None:
    form = AddFilterForm(
        request.GET, registry=registry, field_key=request.GET.get(f"{NEW_FILTER_PREFIX}field")
    )
    if form.is_valid():
        query.filters = query.filters.with_condition(
            form.cleaned_data["filter"], form.cleaned_data["group"]
        )
        query.page = 1
    else:
        query.errors.extend(str(e) for e in form.non_field_errors())


def list_url(query: ListQuery) -> str:
    return reverse("contacts:list") + query.querystring()


def _set_history(request: HtmxHttpRequest, response: HttpResponse, url: str) -> None:
    """Push a new history entry when the state changed, else just correct the address."""
    current = request.htmx.current_url or ""
    parsed = urlparse(current)
    same = (f"{parsed.path}?{parsed.query}" if parsed.query else parsed.path) == url
    if same:
        replace_url(response, url)
    else:
        push_url(response, url)


def list_context(
    request: HtmxHttpRequest, query: ListQuery, registry: FieldRegistry
) -> dict[str, Any]:
    columns = list_columns(user=request.user, registry=registry)
    contacts = for_columns(contact_list_for(query, registry), columns)
    can_change = request.user.has_perm("contacts.change_contact")
    table = contact_table(columns, contacts, query, can_edit=can_change)
    paginate = {
        "paginator_class": ContactPaginator,
        "per_page": query.per_page,
        "query": query,
    }
    RequestConfig(request, paginate=paginate).configure(table)
    context = {
        "query": query,
        "registry": registry,
        "columns": columns,
        "table": table,
        "filter_groups": filter_bar_groups(query),
        "match_switch_url": query.with_filters(query.filters.with_match_switched()),
        "current_url": list_url(query),
        "clear_search_url": query.querystring(q=None, page=None),
        "search_note": search_note(query.search),
        "upload_remove_url": query.querystring(upload=None, page=None),
        "first_url": query.querystring(page=None),
        "saved_views": saved_views_for(user=request.user),
        "filter_form": AddFilterForm(registry=registry, groups=len(query.filters.groups)),
        "search_form": ListSearchForm(initial={"q": query.search}),
        "save_form": SavedViewForm(),
        "per_page_choices": PER_PAGE_CHOICES,
        "can_change": can_change,
        "can_delete": request.user.has_perm("contacts.delete_contact"),
        "can_add": request.user.has_perm("contacts.add_contact"),
        "can_save_views": request.user.has_perm("contacts.add_savedview"),
    }
    return context


def filter_bar_groups(query: ListQuery) -> list[dict[str, Any]]:
    """Each filter group with the links that change it: switch all/any, remove a condition."""
    tree = query.filters
    # Links are built per chip: a few string joins each, no queries.
    return [
        {
            "number": number + 1,
            "group": group,
            "switch_url": query.with_filters(tree.with_group_switched(number)),
            "chips": [
                {
                    "label": c.label,
                    "remove_url": query.with_filters(tree.without_condition(number, n)),
                }
                for n, c in enumerate(group.conditions)
            ],
        }
        for number, group in enumerate(tree.groups)
    ]


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def filter_value_inputs(request: HtmxHttpRequest) -> HttpResponse:
    """The operator and value inputs of the "Add filter" row for the chosen field."""
    registry = field_registry()
    form = AddFilterForm(registry=registry, field_key=request.GET.get(f"{NEW_FILTER_PREFIX}field"))
    return render(request, f"{TEMPLATE}#filter-inputs", {"filter_form": form})

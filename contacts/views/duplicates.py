"""The Duplicates page, the side-by-side merge and the unmerge from a survivor's timeline.

Finding and "not duplicates" need ``change_contact`` (Editors and Managers); a merge
removes contacts, so merging and unmerging need ``delete_contact`` (Managers).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from contacts.field_editor import request_time_zone
from contacts.fields import Field, FieldRegistry, field_registry
from contacts.http import HtmxHttpRequest
from contacts.merge_forms import MergeForm, PickRow, SurvivorForm
from contacts.models import Contact
from contacts.selectors.duplicates import duplicate_groups_page, duplicate_scan_latest
from contacts.services import (
    Actor,
    MergeChoice,
    MergeRefused,
    contact_unmerge,
    contacts_merge,
    merge_choices,
)
from contacts.services.duplicates import duplicate_scan_start, duplicates_mark_not

TEMPLATE = "contacts/duplicates.html"


@require_GET
@permission_required("contacts.change_contact", raise_exception=True)
def duplicates(request: HtmxHttpRequest) -> HttpResponse:
    """The latest search's groups; its progress is polled while it runs."""
    scan = duplicate_scan_latest()
    if request.htmx:
        if scan is None or not scan.is_active:
            return HttpResponseClientRefresh()  # finished: show its groups
        return render(request, f"{TEMPLATE}#progress", {"scan": scan})
    page, groups = duplicate_groups_page(page_number=request.GET.get("page"))
    context = {"scan": scan, "page": page, "groups": groups}
    return render(request, TEMPLATE, context)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def duplicates_find(request: HtmxHttpRequest) -> HttpResponse:
    duplicate_scan_start(actor=Actor.web(request.user))
    messages.info(request, "Searching for duplicates; the list is replaced when it finishes.")
    return redirect("contacts:duplicates")


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def duplicates_not(request: HtmxHttpRequest) -> HttpResponse:
    try:
        duplicates_mark_not(actor=Actor.web(request.user), contact_ids=_ids(request.POST))
    except MergeRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Marked as not duplicates: they will not be grouped again.")
    return redirect("contacts:duplicates")


def _ids(data: Any) -> list[int]:
    return [int(pk) for pk in data.getlist("ids") if str(pk).isdigit()]


@require_http_methods(["GET", "POST"])
@permission_required("contacts.delete_contact", raise_exception=True)
def merge(request: HtmxHttpRequest) -> HttpResponse:
    """Choose the survivor and, field by field, the winning value; then merge."""
    chosen = SurvivorForm(request.POST if request.method == "POST" else request.GET)
    chosen.is_valid()  # a survivor that is not one of the contacts falls back to the first
    ids = chosen.cleaned_data.get("ids") or []
    contacts = list(Contact.objects.filter(pk__in=ids).order_by("pk"))
    if len(contacts) < 2:
        raise Http404("Choose at least two contacts that still exist")
    wanted = chosen.cleaned_data.get("survivor")
    survivor = next((c for c in contacts if c.pk == wanted), contacts[0])
    others = [c for c in contacts if c.pk != survivor.pk]
    registry = field_registry()
    choices = merge_choices(survivor, others, registry)
    form = MergeForm(
        request.POST if request.method == "POST" else None,
        survivor=survivor,
        others=others,
        rows=_pick_rows(request, choices, registry),
        defaults={choice.key: choice.default for choice in choices},
    )
    if form.is_valid():
        try:
            contacts_merge(
                actor=Actor.web(request.user),
                survivor_id=survivor.pk,
                other_ids=[c.pk for c in others],
                picks=form.cleaned_data["picks"],
                expected_versions=form.versions(),
            )
        except MergeRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Merged {len(others)} contact(s) into this one.")
            return redirect("contacts:detail", survivor.pk)
    survivor_form = SurvivorForm(
        initial={"ids": [c.pk for c in contacts], "survivor": survivor.pk},
        contacts=[survivor, *others],
    )
    return render(request, "contacts/merge.html", {"survivor_form": survivor_form, "form": form})


def _pick_rows(
    request: HtmxHttpRequest, choices: list[MergeChoice], registry: FieldRegistry
) -> list[PickRow]:
    """Each differing field with its values side by side, shown as everywhere else."""
    tz = request_time_zone(request.COOKIES)
    return [
        (
            choice.key,
            choice.label,
            [
                (pk, _shown(registry.get(choice.key), value, tz))
                for pk, value in choice.values.items()
            ],
        )
        for choice in choices
    ]


def _shown(target: Field | None, value: Any, tz: ZoneInfo) -> str:
    if value is None or value == "" or value == []:
        return ""
    # A trait whose field was deleted since still shows, as text.
    return target.display(value, tz) if target is not None else str(value)


@require_POST
@permission_required("contacts.delete_contact", raise_exception=True)
def unmerge(request: HtmxHttpRequest, pk: int, merge_id: int) -> HttpResponse:
    try:
        restored = contact_unmerge(actor=Actor.web(request.user), merge_id=merge_id)
    except MergeRefused as exc:
        messages.error(request, exc.message)
    else:
        ids = ", ".join(str(c.pk) for c in restored)
        messages.success(request, f"Unmerged: contact(s) {ids} are back.")
    return HttpResponseRedirect(reverse("contacts:detail", args=[pk]) + "#timeline")

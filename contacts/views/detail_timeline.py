"""The contact page's activity timeline: every change, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from contacts import selectors, services
from contacts.field_editor import request_time_zone
from contacts.fields import BUILTIN_BY_KEY, Field, FieldRegistry, field_registry
from contacts.http import HtmxHttpRequest
from contacts.kinds import DEFAULT_TYPE, is_field_type, kind_for
from contacts.models import Activity, Contact, Source
from contacts.selectors.fields import FieldKindHistory, field_kind_history

TEMPLATE = "contacts/contact_detail.html"


@dataclass(slots=True)
class FieldChange:
    label: str
    old: str
    new: str
    key: str = ""
    restorable: bool = False


@dataclass(slots=True)
class TimelineEntry:
    activity: Activity
    title: str
    who: str
    when: str
    who_url: str = ""
    changes: list[FieldChange] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    can_unmerge: bool = False
    event_traits: list[tuple[str, str]] = field(default_factory=list)


def _who(activity: Activity) -> tuple[str, str]:
    """Who made the change, and a link to more about them when there is a page for it."""
    if activity.upload_job_id is not None:
        by = f" by {activity.actor_user.get_username()}" if activity.actor_user else ""
        try:
            url = reverse("bulkupload:job", args=[activity.upload_job_id])
        except NoReverseMatch:
            url = ""
        return f"Upload job #{activity.upload_job_id}{by}", url
    if activity.actor_api_key is not None:
        return f"API key “{activity.actor_api_key.name}”", ""
    if activity.actor_user is not None:
        return activity.actor_user.get_username(), ""
    if activity.source == Source.API:
        return "A revoked API key", ""
    return ("System" if activity.source == Source.SYSTEM else "Someone (account removed)"), ""


def _field_for(key: str, registry: FieldRegistry) -> Field:
    # A field since deleted still shows its changes, by key and as text.
    return registry.get(key) or Field(key=key, label=key, type=DEFAULT_TYPE, builtin=False)


def _shown(target: Field, value: Any, tz: ZoneInfo) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    return target.display(value, tz)


def timeline_entry(
    activity: Activity,
    registry: FieldRegistry,
    tz: ZoneInfo,
    kinds: FieldKindHistory | None = None,
) -> TimelineEntry:
    changes = activity.changes or {}
    who, who_url = _who(activity)
    when = BUILTIN_BY_KEY["created_at"].display(activity.created_at, tz)
    if activity.kind == Activity.Kind.EVENT:
        traits = changes.get("traits") or {}
        return TimelineEntry(
            activity=activity,
            title=f"Event: {changes.get('event', '')}",
            who=who,
            who_url=who_url,
            when=when,
            event_traits=[
                (_field_for(k, registry).label, _shown(_field_for(k, registry), v, tz))
                for k, v in traits.items()
            ],
        )
    field_changes = []
    for key, pair in (changes.get("fields") or {}).items():
        target = _field_for(key, registry)
        # Each value reads as the kind it was stored under: the field's kind then (it may
        # have changed since), or the kinds a kind change or delete recorded on its entry.
        then = kinds.kind_at(key, activity.created_at) if kinds is not None else None
        before = _as_kind(target, changes.get("old_kind") or then)
        after = _as_kind(target, changes.get("new_kind") or then)
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        restorable = (
            key in registry
            and then is None
            and "field_change" not in changes
            and services.restorable_change(activity, key) is not None
        )
        field_changes.append(
            FieldChange(
                target.label, _shown(before, old, tz), _shown(after, new, tz), key, restorable
            )
        )
    return TimelineEntry(
        activity=activity,
        title=_field_change_title(changes, field_changes) or _title(activity),
        can_unmerge=activity.kind == Activity.Kind.MERGED and not changes.get("unmerged_at"),
        who=who,
        who_url=who_url,
        when=when,
        changes=field_changes,
        tags_added=list(changes.get("tags_added") or []),
        tags_removed=list(changes.get("tags_removed") or []),
    )


def _as_kind(target: Field, type_name: str | None) -> Field:
    if not type_name or not is_field_type(type_name):
        return target
    return replace(target, type=type_name, kind=kind_for(type_name))


def _field_change_title(changes: dict[str, Any], field_changes: list[FieldChange]) -> str:
    """An entry a field's kind change or delete made (``contacts.services.field_changes``)."""
    if "field_change" not in changes or not field_changes:
        return ""
    label = field_changes[0].label
    new_kind = changes.get("new_kind")
    if new_kind and is_field_type(new_kind):
        return f"{label} changed to a {kind_for(new_kind).label.lower()} field"
    return f"Field {label} deleted"


def _title(activity: Activity) -> str:
    changes = activity.changes or {}
    if activity.kind == Activity.Kind.MERGED:
        ids = ", ".join(str(snap["id"]) for snap in changes.get("merged", []))
        undone = " (undone)" if changes.get("unmerged_at") else ""
        return f"Merged contact(s) {ids} into this one{undone}"
    if activity.kind == Activity.Kind.UNMERGED:
        restored = changes.get("restored")
        if restored:
            return f"Unmerged: contact(s) {', '.join(map(str, restored))} brought back"
        return "Brought back by an unmerge"
    return "Created" if activity.kind == Activity.Kind.CREATED else "Updated"


def timeline_context(
    contact: Contact,
    registry: FieldRegistry,
    tz: ZoneInfo,
    page_number: Any = 1,
    *,
    can_restore: bool = False,
) -> dict[str, Any]:
    page = selectors.contact_timeline(contact_id=contact.pk, page_number=page_number)
    kinds = field_kind_history()
    return {
        "contact_pk": contact.pk,
        "timeline_page": page,
        "timeline": [timeline_entry(a, registry, tz, kinds) for a in page.object_list],
        "tz": tz,
        "can_restore": can_restore,
    }


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def contact_timeline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = Contact.objects.filter(pk=pk).only("pk").first()
    if contact is None:
        raise Http404("No such contact")
    tz = request_time_zone(request.COOKIES)
    context = timeline_context(
        contact,
        field_registry(),
        tz,
        request.GET.get("page"),
        can_restore=request.user.has_perm("contacts.change_contact"),
    )
    return render(request, f"{TEMPLATE}#timeline", context)


@require_POST
@permission_required("contacts.change_contact", raise_exception=True)
def change_restore(request: HtmxHttpRequest, pk: int, activity_id: int, key: str) -> HttpResponse:
    """ "Restore the earlier value" of one change: the page reloads with the value back, or
    the timeline comes back with why not (the value changed since: its current value)."""
    if not Activity.objects.filter(pk=activity_id, contact_id=pk).exists():
        raise Http404("No such change")
    registry = field_registry()
    try:
        services.contact_change_restore(
            actor=services.Actor.web(request.user), activity_id=activity_id, field_key=key
        )
    except services.VersionConflict as conflict:
        target = registry[key]
        shown = _shown(target, conflict.current_value, request_time_zone(request.COOKIES))
        error = f"{target.label} was not restored: it changed since, and is now {shown}."
    except services.ServiceError as exc:
        error = f"Not restored: {exc.message}."
    else:
        return HttpResponseClientRefresh()
    tz = request_time_zone(request.COOKIES)
    contact = Contact(pk=pk)
    context = {**timeline_context(contact, registry, tz, can_restore=True), "restore_error": error}
    return render(request, f"{TEMPLATE}#timeline", context)

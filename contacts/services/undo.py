"""Taking recorded changes back: one field change restored, or a whole upload undone.

:func:`contact_change_restore` puts one field back to the value an activity entry says it
had, through ``contact_field_update`` with the entry's new value as the expected one: a
value changed since is refused (``VersionConflict``, naming the current value).

Undoing an upload: what its activity entries say it did, taken back a chunk at a time.

An upload recorded one activity entry per contact it created or changed (``upload_job_id``
set, ``changes`` holding ``[old, new]`` per field and the tags it added). Undoing it deletes
the contacts it created, puts back the old value of each field it changed and removes the
tags it added, except where anything happened since: a later entry (any source, events
aside) or a current value that is no longer the upload's. Those are kept and reported.

A chunk locks its contacts (in id order) before it reads their history, so a concurrent
write either lands before the chunk (and is seen, and kept) or waits for it (and then
writes over the undone value): the newer value is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from contacts.errors import ServiceError
from contacts.models import Activity, Contact, ContactTag, Tag, tag_key
from contacts.services.actor import Actor
from contacts.services.contacts import CURRENT_KEYS, contact_field_update, current_values
from contacts.services.plan import plan_change

# The contact's identity: an upload may fill it in, an undo never takes it away.
IDENTITY_KEYS = frozenset({"phone", "user_id", "country_code", "phone_number"})
VALUE_CHANGES = (Activity.Kind.CREATED, Activity.Kind.UPDATED)


@dataclass(frozen=True, slots=True)
class Kept:
    """Something the undo left as it is, and why (``field`` is empty for a whole contact)."""

    contact_id: int
    field: str
    reason: str


@dataclass(slots=True)
class UndoOutcome:
    """What undoing one chunk did (or, in a preview, would do)."""

    deleted: int = 0
    restored: int = 0  # contacts whose values or tags went back
    tags_removed: int = 0
    kept: list[Kept] = field(default_factory=list)

    def add(self, other: UndoOutcome) -> None:
        self.deleted += other.deleted
        self.restored += other.restored
        self.tags_removed += other.tags_removed
        self.kept.extend(other.kept)


@dataclass(frozen=True, slots=True)
class _Values:
    builtin: Mapping[str, Any]
    traits: Mapping[str, Any]


@dataclass(slots=True)
class _Decision:
    delete: bool = False
    builtin: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    tag_keys: set[str] = field(default_factory=set)
    kept: list[Kept] = field(default_factory=list)


def restorable_change(activity: Activity, field_key: str) -> tuple[Any, Any] | None:
    """The ``(old, new)`` of a field change that "Restore the earlier value" can put back;
    None for events, identity (never taken away) and keys the entry did not change."""
    if activity.kind not in VALUE_CHANGES or field_key in IDENTITY_KEYS:
        return None
    pair = (activity.changes or {}).get("fields", {}).get(field_key)
    if not isinstance(pair, list) or len(pair) != 2:
        return None
    return pair[0], pair[1]


def contact_change_restore(*, actor: Actor, activity_id: int, field_key: str) -> Contact:
    """Put ``field_key`` back to its value before the change ``activity_id`` recorded.

    Refused with ``VersionConflict`` (which names the current value) when the value is no
    longer the one that change wrote; with ``ServiceError`` when the entry holds no such
    change.
    """
    activity = Activity.objects.filter(pk=activity_id).first()
    change = None if activity is None else restorable_change(activity, field_key)
    if activity is None or change is None:
        raise ServiceError("that change cannot be restored", field=field_key)
    old, new = change
    return contact_field_update(
        actor=actor,
        contact_id=activity.contact_id,
        field_key=field_key,
        value=old,
        expected_value=new,
    )


def upload_entries(upload_job_id: int) -> QuerySet[Activity]:
    """The upload's activity entries that changed values (a queryset)."""
    return Activity.objects.filter(upload_job_id=upload_job_id, kind__in=VALUE_CHANGES)


def upload_undo_counts(upload_job_id: int) -> dict[str, int]:
    """The preview's counts, set-wise: contacts created and changed, tags added, and how
    many of those contacts changed again since (kept whole or in part)."""
    entries = upload_entries(upload_job_id)
    later = Activity.objects.filter(
        contact_id=OuterRef("contact_id"), id__gt=OuterRef("id"), kind__in=VALUE_CHANGES
    )
    return {
        "created": entries.filter(kind=Activity.Kind.CREATED).count(),
        "updated": entries.filter(kind=Activity.Kind.UPDATED).count(),
        "with_tags": entries.filter(changes__has_key="tags_added").count(),
        "changed_since": entries.filter(Exists(later)).count(),
    }


def upload_undo_contact_ids(upload_job_id: int, *, after: int, count: int) -> list[int]:
    """The next ``count`` contacts the upload touched, in id order, after contact ``after``."""
    rows = upload_entries(upload_job_id).filter(contact_id__gt=after).order_by("contact_id")
    return list(rows.values_list("contact_id", flat=True).distinct()[:count])


def upload_undo_chunk(
    *, actor: Actor, upload_job_id: int, contact_ids: Sequence[int], dry_run: bool = False
) -> UndoOutcome:
    """Undo the upload on these contacts (the caller holds a transaction).

    Reads in four queries (contacts locked, the upload's entries, later entries, tag links)
    and writes in at most four (one DELETE, one bulk UPDATE, one DELETE of tag links, one
    INSERT of activity entries), whatever the chunk's size.
    """
    contacts = {
        c.pk: c
        for c in Contact.objects.select_for_update().filter(pk__in=contact_ids).order_by("pk")
    }
    mine = upload_entries(upload_job_id).filter(contact_id__in=list(contacts)).order_by("id")
    own: dict[int, list[Activity]] = {}
    for entry in mine:
        own.setdefault(entry.contact_id, []).append(entry)
    first_id = min((entries[0].pk for entries in own.values()), default=0)
    later: dict[int, list[Activity]] = {}
    newer = Activity.objects.filter(
        contact_id__in=list(own), id__gt=first_id, kind__in=VALUE_CHANGES
    ).exclude(upload_job_id=upload_job_id)
    for entry in newer.select_related("actor_user", "actor_api_key").order_by("id"):
        if entry.pk > own[entry.contact_id][-1].pk:
            later.setdefault(entry.contact_id, []).append(entry)
    tag_keys = _tag_keys(list(own))
    outcome = UndoOutcome()
    decisions = {
        contact_id: _decide(contacts[contact_id], entries, later.get(contact_id, []), tag_keys)
        for contact_id, entries in own.items()
    }
    for decision in decisions.values():
        outcome.kept.extend(decision.kept)
    if not dry_run:
        return _carry_out(actor, upload_job_id, contacts, decisions, outcome)
    outcome.deleted = sum(1 for d in decisions.values() if d.delete)
    outcome.restored = sum(1 for d in decisions.values() if d.builtin or d.traits or d.tag_keys)
    return outcome


def _tag_keys(contact_ids: list[int]) -> dict[int, set[str]]:
    have: dict[int, set[str]] = {}
    links = ContactTag.objects.filter(contact_id__in=contact_ids)
    for contact_id, key in links.values_list("contact_id", "tag__name_key"):
        have.setdefault(contact_id, set()).add(key)
    return have


def _who(entry: Activity) -> str:
    if entry.actor_user is not None:
        by = entry.actor_user.get_username()
    elif entry.actor_api_key is not None:
        by = f"API key {entry.actor_api_key.name}"
    elif entry.upload_job_id:
        by = f"upload {entry.upload_job_id}"
    else:
        by = entry.get_source_display()
    return (
        f"changed since by {by} ({entry.get_source_display()}) on {entry.created_at:%Y-%m-%d %H:%M}"
    )


def _decide(
    contact: Contact,
    entries: list[Activity],
    later: list[Activity],
    tag_keys: Mapping[int, set[str]],
) -> _Decision:
    decision = _Decision()
    if entries[0].kind == Activity.Kind.CREATED:
        if later:
            reason = f"created by the upload and {_who(later[0])}"
            decision.kept.append(Kept(contact.pk, "", reason))
        else:
            decision.delete = True
        return decision
    touched_later: dict[str, Activity] = {}
    for entry in later:
        for key in entry.changes.get("fields", {}):
            touched_later.setdefault(key, entry)
        for name in [*entry.changes.get("tags_added", []), *entry.changes.get("tags_removed", [])]:
            touched_later.setdefault(f"tag:{tag_key(name)}", entry)
    current = current_values(contact)
    traits = current["traits"] if isinstance(current["traits"], dict) else {}
    for key, (old, new) in _net_changes(entries).items():
        if key in IDENTITY_KEYS:
            continue
        if key in touched_later:
            decision.kept.append(Kept(contact.pk, key, _who(touched_later[key])))
            continue
        is_builtin = key in CURRENT_KEYS
        now = current[key] if is_builtin else traits.get(key)
        if now != new:
            reason = f"its value is no longer the upload's (now {now!r})"
            decision.kept.append(Kept(contact.pk, key, reason))
        elif is_builtin:
            decision.builtin[key] = old
        else:
            decision.traits[key] = old
    have = tag_keys.get(contact.pk, set())
    for entry in entries:
        for name in entry.changes.get("tags_added", []):
            key = tag_key(name)
            if f"tag:{key}" in touched_later:
                decision.kept.append(
                    Kept(contact.pk, f"tag {name}", _who(touched_later[f"tag:{key}"]))
                )
            elif key in have:
                decision.tag_keys.add(key)
    return decision


def _net_changes(entries: Iterable[Activity]) -> dict[str, tuple[Any, Any]]:
    """Per field, the value before the upload's first entry and after its last."""
    net: dict[str, tuple[Any, Any]] = {}
    for entry in entries:
        for key, (old, new) in entry.changes.get("fields", {}).items():
            net[key] = (net[key][0] if key in net else old, new)
    return net


def _carry_out(
    actor: Actor,
    upload_job_id: int,
    contacts: Mapping[int, Contact],
    decisions: Mapping[int, _Decision],
    outcome: UndoOutcome,
) -> UndoOutcome:
    now = timezone.now()
    opt_in = actor.opt_in()
    doomed = [pk for pk, d in decisions.items() if d.delete]
    if doomed:
        Contact.objects.filter(pk__in=doomed).delete()
    outcome.deleted = len(doomed)
    changed: list[Contact] = []
    entries: list[Activity] = []
    unlink: dict[int, set[str]] = {}
    for pk, decision in decisions.items():
        contact = contacts[pk]
        values = _Values(decision.builtin, decision.traits)
        plan = plan_change(current_values(contact), values, opt_in=opt_in)
        if not plan.changed and not decision.tag_keys:
            continue
        for key, value in plan.columns.items():
            setattr(contact, key, value)
        if plan.traits is not None:
            contact.traits = plan.traits
        contact.version += 1
        contact.updated_at = now
        changed.append(contact)
        if decision.tag_keys:
            unlink[pk] = decision.tag_keys
        entries.append(_entry(actor, contact, plan.changes, upload_job_id, now))
    removed = _unlink_tags(unlink)
    for entry in entries:
        if names := removed.get(entry.contact_id):
            entry.changes["tags_removed"] = names
            outcome.tags_removed += len(names)
    if changed:
        _save_rows(changed)
        Activity.objects.bulk_create(entries)
    outcome.restored = len(changed)
    return outcome


_SAVED_COLUMNS = (
    *("name", "email", "whatsapp_opted", "opted_at", "opt_in_source"),
    *("traits", "version", "updated_at"),
)


def _save_rows(contacts: list[Contact]) -> None:
    """One executemany UPDATE for the chunk (the batch writer's way): Django's bulk_update
    builds a CASE per column whose cost grows with the chunk."""
    ops = connection.ops
    table = ops.quote_name(Contact._meta.db_table)
    assignments = ", ".join(f"{ops.quote_name(column)} = %s" for column in _SAVED_COLUMNS)
    rows = [
        (
            c.name,
            c.email,
            c.whatsapp_opted,
            ops.adapt_datetimefield_value(c.opted_at),
            c.opt_in_source,
            ops.adapt_json_value(c.traits, None),
            c.version,
            ops.adapt_datetimefield_value(c.updated_at),
            c.pk,
        )
        for c in contacts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)


def _unlink_tags(unlink: Mapping[int, set[str]]) -> dict[int, list[str]]:
    if not unlink:
        return {}
    keys = set().union(*unlink.values())
    tags = {t.pk: t for t in Tag.objects.filter(name_key__in=keys)}
    links = ContactTag.objects.filter(contact_id__in=list(unlink), tag_id__in=list(tags))
    doomed: list[int] = []
    removed: dict[int, list[str]] = {}
    for link_id, contact_id, tag_id in links.values_list("pk", "contact_id", "tag_id"):
        if tags[tag_id].name_key in unlink[contact_id]:
            doomed.append(link_id)
            removed.setdefault(contact_id, []).append(tags[tag_id].name)
    ContactTag.objects.filter(pk__in=doomed).delete()
    return removed


def _entry(
    actor: Actor, contact: Contact, changes: Mapping[str, list[Any]], upload_job_id: int, now: Any
) -> Activity:
    entry = actor.activity(
        contact=contact,
        kind=Activity.Kind.UPDATED,
        changes={"fields": dict(changes), "undo_of_upload": upload_job_id},
    )
    entry.created_at = now
    return entry

"""Merging duplicates into one survivor, and undoing a merge (unmerge).

A merge deletes the other contacts' rows after moving their activity to the survivor; the
survivor's ``merged`` activity entry keeps a full snapshot of each (values, tags, the ids of
the activity moved), and their phones, user ids and contact ids become
:class:`~contacts.models.ContactAlias` rows of the survivor: the matcher reaches the survivor
through them, and a merged contact's page redirects. The survivor's new values are planned
by :func:`contacts.services.plan.plan_change`, like every other write.

An unmerge recreates the merged contacts from the snapshot (same ids), moves their activity
back, and takes back from the survivor only what the merge gave it and nobody changed since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from contacts.errors import MergeRefused
from contacts.fields import FieldRegistry, field_registry
from contacts.models import Activity, Contact, ContactAlias, ContactTag, Tag
from contacts.phones import Phone
from contacts.selectors.match import contact_id_resolve
from contacts.services.actor import Actor
from contacts.services.plan import ChangePlan, plan_change, tags_by_key
from contacts.services.planning import PlannedValues
from contacts.services.tags import contact_tag_keys, link_tags, tags_get_or_create

# The built-in columns a merge chooses between; identity (phone, user id) is filled in.
MERGE_COLUMNS = ("name", "email", "whatsapp_opted")
_SNAPSHOT_COLUMNS = ("user_id", "country_code", "phone_number", "phone", *MERGE_COLUMNS)


@dataclass(frozen=True, slots=True)
class MergeChoice:
    """One field whose values differ among the contacts to merge, for the side-by-side form."""

    key: str
    label: str
    values: dict[int, Any]  # by contact id
    default: int  # the contact whose value wins unless another is picked


def merge_choices(
    survivor: Contact, others: Sequence[Contact], registry: FieldRegistry | None = None
) -> list[MergeChoice]:
    """The fields whose values differ; by default the survivor's value wins if it has one,
    else the first other contact's that has one."""
    registry = registry or field_registry()
    contacts = [survivor, *others]
    keys = [*MERGE_COLUMNS, *sorted({k for c in contacts for k in c.traits})]
    choices = []
    for key in keys:
        values = {c.pk: _value(c, key) for c in contacts}
        if len({repr(v) for v in values.values()}) < 2:
            continue
        default = next((pk for pk, v in values.items() if _has(v)), survivor.pk)
        label = registry[key].label if key in registry else key
        choices.append(MergeChoice(key, label, values, default))
    return choices


def _value(contact: Contact, key: str) -> Any:
    return getattr(contact, key) if key in MERGE_COLUMNS else contact.traits.get(key)


def _has(value: Any) -> bool:
    # WhatsApp opted is False until set, so False counts as no value; 0 is a number.
    return not (value is None or value is False or value == "" or value == [])


def contacts_merge(
    *,
    actor: Actor,
    survivor_id: int,
    other_ids: Sequence[int],
    picks: Mapping[str, int] | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> Activity:
    """Merge ``other_ids`` into ``survivor_id``; returns the survivor's ``merged`` entry.

    ``picks`` maps a field key to the contact whose value wins (default: see
    :func:`merge_choices`). ``expected_versions`` are the versions the person saw: a
    contact changed since refuses the merge (nothing lost, nothing changed).
    """
    others = sorted({int(pk) for pk in other_ids})
    if not others:
        raise MergeRefused("choose at least one contact to merge into the survivor")
    if survivor_id in others:
        raise MergeRefused(f"contact {survivor_id} cannot be merged into itself")
    with transaction.atomic():
        locked = _lock([survivor_id, *others])
        _refuse_changed(locked, expected_versions or {})
        survivor, merged = locked[survivor_id], [locked[pk] for pk in others]
        snapshots = [_snapshot(contact) for contact in merged]
        plan = _plan(survivor, merged, picks or {})
        Activity.objects.filter(contact_id__in=others).update(contact=survivor)
        ContactAlias.objects.filter(contact_id__in=others).update(contact=survivor)
        Contact.objects.filter(pk__in=others).delete()
        _apply(survivor, plan)
        entry = actor.activity(
            contact=survivor,
            kind=Activity.Kind.MERGED,
            changes={**(plan.activity or {}), "survivor_id": survivor.pk, "merged": snapshots},
        )
        entry.save(force_insert=True)
        ContactAlias.objects.bulk_create(_aliases(survivor, snapshots, entry))
    return entry


def _lock(ids: list[int]) -> dict[int, Contact]:
    """The contacts, locked in id order; a refusal names an id that is gone or merged."""
    locked = {
        c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    for pk in ids:
        if pk not in locked:
            survivor = contact_id_resolve(pk)
            if survivor is not None:
                raise MergeRefused(f"contact {pk} was already merged into contact {survivor}")
            raise MergeRefused(f"there is no contact {pk}")
    return locked


def _refuse_changed(locked: Mapping[int, Contact], expected: Mapping[int, int]) -> None:
    for pk, version in expected.items():
        contact = locked.get(int(pk))
        if contact is not None and contact.version != int(version):
            raise MergeRefused(
                f"contact {pk} ({contact}) was changed by someone else since the merge was "
                "prepared; nothing was merged, look at the values again"
            )


def _snapshot(contact: Contact) -> dict[str, Any]:
    tags = ContactTag.objects.filter(contact=contact).order_by("tag__name_key")
    return {
        "id": contact.pk,
        **{key: getattr(contact, key) for key in _SNAPSHOT_COLUMNS},
        "traits": contact.traits,
        "tags": list(tags.values_list("tag__name", flat=True)),
        "created_at": contact.created_at.isoformat(),
        "version": contact.version,
        "activity_ids": list(contact.activities.values_list("pk", flat=True)),
    }


def _plan(survivor: Contact, merged: list[Contact], picks: Mapping[str, int]) -> ChangePlan:
    by_id = {c.pk: c for c in [survivor, *merged]}
    incoming = PlannedValues()
    for choice in merge_choices(survivor, merged):
        winner = by_id.get(int(picks.get(choice.key, choice.default)), survivor)
        value = choice.values[winner.pk]
        if choice.key in MERGE_COLUMNS:
            incoming.builtin[choice.key] = value
        else:
            incoming.traits[choice.key] = value
    phone = next((_phone_of(c) for c in merged if c.phone), None) if not survivor.phone else None
    user_id = next((c.user_id for c in merged if c.user_id), None) if not survivor.user_id else None
    tags = Tag.objects.filter(contacttag__contact__in=merged).distinct()
    current = {key: getattr(survivor, key) for key in ("user_id", "phone", *MERGE_COLUMNS)}
    return plan_change(
        {**current, "traits": survivor.traits},
        incoming,
        tags=tags_by_key(tags),
        current_tag_keys=contact_tag_keys(survivor.pk),
        phone=phone,
        user_id=user_id,
    )


def _phone_of(contact: Contact) -> Phone:
    return Phone(contact.phone or "", contact.country_code, contact.phone_number)


def _apply(survivor: Contact, plan: ChangePlan) -> None:
    for key, value in plan.columns.items():
        setattr(survivor, key, value)
    if plan.traits is not None:
        survivor.traits = plan.traits
    survivor.version += 1
    survivor.updated_at = timezone.now()
    survivor.save()
    if plan.tags_added:
        link_tags(survivor, list(Tag.objects.filter(name__in=plan.tags_added)))


def _aliases(
    survivor: Contact, snapshots: list[dict[str, Any]], entry: Activity
) -> list[ContactAlias]:
    kinds = ContactAlias.Kind
    aliases = []
    for snap in snapshots:
        aliases.append(ContactAlias(kind=kinds.CONTACT_ID, value=str(snap["id"]), contact=survivor))
        if snap["phone"] and snap["phone"] != survivor.phone:
            aliases.append(ContactAlias(kind=kinds.PHONE, value=snap["phone"], contact=survivor))
        if snap["user_id"] and snap["user_id"] != survivor.user_id:
            aliases.append(
                ContactAlias(kind=kinds.USER_ID, value=snap["user_id"], contact=survivor)
            )
    for alias in aliases:
        alias.merge = entry
    return aliases


def contact_unmerge(*, actor: Actor, merge_id: int) -> list[Contact]:
    """Undo the merge recorded by the ``merged`` entry ``merge_id``; returns the contacts
    brought back, with their values from merge time.

    The survivor gives back only what the merge gave it and nobody changed since: a field
    still holding the merged-in value gets its earlier value back, a tag the merge added is
    removed, an identity the merge filled in is cleared; later changes stay on the survivor.
    """
    with transaction.atomic():
        entry = Activity.objects.select_for_update().filter(pk=merge_id).first()
        if entry is None or entry.kind != Activity.Kind.MERGED:
            raise MergeRefused(f"there is no merge {merge_id}")
        changes = entry.changes
        if changes.get("unmerged_at"):
            raise MergeRefused(f"merge {merge_id} was already undone")
        survivor = Contact.objects.select_for_update().get(pk=entry.contact_id)
        if survivor.pk != changes["survivor_id"]:
            raise MergeRefused(
                f"contact {changes['survivor_id']} was merged into contact {survivor.pk} "
                "since; undo that merge first"
            )
        ContactAlias.objects.filter(merge=entry).delete()
        reverted = _give_back(survivor, changes)
        restored = [_restore(actor, snap) for snap in changes["merged"]]
        entry.changes = {**changes, "unmerged_at": timezone.now().isoformat()}
        entry.save(update_fields=["changes"])
        actor.activity(
            contact=survivor,
            kind=Activity.Kind.UNMERGED,
            changes={**reverted, "merge_id": entry.pk, "restored": [c.pk for c in restored]},
        ).save(force_insert=True)
    return restored


def _give_back(survivor: Contact, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Revert on the (locked) survivor what the merge set and nobody changed since."""
    fields: dict[str, list[Any]] = {}
    for key, (old, new) in changes.get("fields", {}).items():
        if key in ("phone", "user_id"):
            # Filled in by the merge from a merged contact, which takes it back now.
            fields[key] = [getattr(survivor, key), None]
            setattr(survivor, key, None)
            if key == "phone":
                survivor.country_code = survivor.phone_number = ""
        elif key in MERGE_COLUMNS and getattr(survivor, key) == new:
            fields[key] = [new, old]
            setattr(survivor, key, old)
        elif key not in MERGE_COLUMNS and survivor.traits.get(key) == new:
            fields[key] = [new, old]
            survivor.traits = _with_trait(survivor.traits, key, old)
    tags = changes.get("tags_added", [])
    removed = ContactTag.objects.filter(contact=survivor, tag__name__in=tags)
    removed_names = list(removed.values_list("tag__name", flat=True))
    removed.delete()
    survivor.version += 1
    survivor.updated_at = timezone.now()
    survivor.save()
    return {"fields": fields, "tags_removed": removed_names}


def _with_trait(traits: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    rest = {k: v for k, v in traits.items() if k != key}
    return rest if value is None else {**rest, key: value}


def _restore(actor: Actor, snap: Mapping[str, Any]) -> Contact:
    """Recreate a merged contact from its snapshot, with its id, tags and activity."""
    for key in ("phone", "user_id"):
        if snap[key] and Contact.objects.filter(**{key: snap[key]}).exists():
            raise MergeRefused(
                f"{key.replace('_', ' ')} {snap[key]} of contact {snap['id']} belongs to "
                "another contact now; nothing was unmerged"
            )
    contact = Contact(
        pk=snap["id"],
        **{key: snap[key] for key in _SNAPSHOT_COLUMNS},
        traits=snap["traits"],
        created_at=snap["created_at"],
        updated_at=timezone.now(),
        version=snap["version"] + 1,
    )
    contact.save(force_insert=True)
    link_tags(contact, tags_get_or_create(names=snap["tags"]))
    Activity.objects.filter(pk__in=snap["activity_ids"]).update(contact=contact)
    actor.activity(contact=contact, kind=Activity.Kind.UNMERGED, changes={}).save(force_insert=True)
    return contact

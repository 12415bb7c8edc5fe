"""The change plan: what one write does to one contact, decided without the database.

Every write of contact values (``contact_create``, ``contact_upsert``, ``contact_update``,
``contact_tags_add``, the bulk tag add and the CSV import's batch writer) reads the
contact's current values, calls :func:`plan_change`, and carries the plan out. The rules of
DESIGN.md "Rules every entry point obeys" that decide *what* changes live here only:

- merge: the fields and traits named are set, the others left alone; ``None`` clears a trait;
- tags are add-only and case-insensitive: incoming tags come keyed by
  :func:`contacts.models.tag_key`, and a tag whose key the contact has is not added;
- identity fill-in: a phone or user id is added to a contact that has none; a different one
  is refused with ``ContactConflict`` (a contact's phone is never changed); which contact is
  meant is the matcher's rule (``contacts.selectors.match``);
- a write that changes nothing records nothing (``activity`` is None);
- opt-in as a record: a write that sets or clears WhatsApp opted (a new contact given a
  value included) also writes ``opted_at`` and ``opt_in_source`` from its ``opt_in`` stamp;
  the activity entry of that change is its history (when, who, from where).

The activity entry's ``changes`` keep the shape the timeline reads: ``{"fields": {key:
[old, new]}, "tags_added": [names]}``; a new contact's ``fields`` hold ``[None, value]`` for
each value set (not empty), its phone and user id first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from contacts.errors import ContactConflict
from contacts.models import Tag
from contacts.phones import Phone

NO_TAGS: Mapping[str, str] = MappingProxyType({})


class IncomingValues(Protocol):
    """Coerced values to write (``PlannedValues``, or an import's ``ImportRow``)."""

    @property
    def builtin(self) -> Mapping[str, Any]: ...  # built-in columns by key

    @property
    def traits(self) -> Mapping[str, Any]: ...  # by attribute key; None clears the trait


@dataclass(frozen=True, slots=True)
class NoValues:
    """Incoming values that name no field (a write of tags only)."""

    builtin: Mapping[str, Any] = MappingProxyType({})
    traits: Mapping[str, Any] = MappingProxyType({})


NO_VALUES = NoValues()


OPTED = "whatsapp_opted"


class OptIn(NamedTuple):
    """When and from where a write comes, stamped on the contact if it changes WhatsApp
    opted (``Actor.opt_in_source()``)."""

    at: datetime
    source: str


class ChangePlan(NamedTuple):
    """A NamedTuple, not a dataclass: the import makes one per CSV row, and a tuple is the
    cheapest immutable object to build."""

    creating: bool
    columns: Mapping[str, Any]  # built-in columns to write, by key
    traits: dict[str, Any] | None  # every trait after the write; None: traits unchanged
    changes: Mapping[str, list[Any]]  # {key: [old, new]}: the activity entry's "fields"
    tags_added: Sequence[str]  # names (as stored) of the tags to link
    activity: dict[str, Any] | None  # the activity entry's changes; None: record nothing

    @property
    def changed(self) -> bool:
        return self.activity is not None

    @property
    def opt_in_changed(self) -> bool:
        return OPTED in self.changes


UNCHANGED = ChangePlan(False, MappingProxyType({}), None, MappingProxyType({}), (), None)


def plan_change(
    current: Mapping[str, Any] | None,
    incoming: IncomingValues,
    *,
    tags: Mapping[str, str] = NO_TAGS,
    current_tag_keys: Collection[str] = (),
    phone: Phone | None = None,
    user_id: str | None = None,
    opt_in: OptIn | None = None,
) -> ChangePlan:
    """What writing ``incoming`` (and ``tags``, ``phone``, ``user_id``) changes; raises
    :class:`ContactConflict` when the write would replace the contact's phone or user id.

    ``current`` holds the contact's stored values that the write may touch (built-in
    columns by key, ``"phone"`` and ``"user_id"`` when those are given, and ``"traits"``),
    or is None for a contact to create. ``tags`` maps each incoming tag's key to its stored
    name; ``current_tag_keys`` are the keys of the tags the contact has (at least those
    among ``tags``). ``opt_in`` is stamped when WhatsApp opted changes.
    """
    if current is None:
        return _plan_create(incoming, tags, phone, user_id, opt_in)
    columns: dict[str, Any] = {}
    changes: dict[str, list[Any]] = {}
    if phone is not None or user_id:
        _fill_in_identity(current, phone, user_id, columns, changes)
    for key, new in incoming.builtin.items():
        old = current[key]
        if old != new:
            columns[key] = new
            changes[key] = [old, new]
    traits = _merged_traits(current.get("traits"), incoming.traits, changes)
    tags_added = [name for key, name in tags.items() if key not in current_tag_keys]
    if not changes and not tags_added:
        return UNCHANGED
    _stamp_opt_in(columns, changes, opt_in)
    return ChangePlan(False, columns, traits, changes, tags_added, _entry(changes, tags_added))


def _stamp_opt_in(columns: dict[str, Any], changes: dict[str, Any], opt_in: OptIn | None) -> None:
    if opt_in is not None and OPTED in changes:
        columns["opted_at"] = opt_in.at
        columns["opt_in_source"] = opt_in.source


def _plan_create(
    incoming: IncomingValues,
    tags: Mapping[str, str],
    phone: Phone | None,
    user_id: str | None,
    opt_in: OptIn | None,
) -> ChangePlan:
    columns: dict[str, Any] = {}
    changes: dict[str, list[Any]] = {}
    if phone is not None:
        columns.update(_phone_columns(phone))
        changes["phone"] = [None, phone.e164]
    if user_id:
        columns["user_id"] = user_id
        changes["user_id"] = [None, user_id]
    for key, new in incoming.builtin.items():
        columns[key] = new
        if new not in ("", None):
            changes[key] = [None, new]
    traits: dict[str, Any] = {}
    for key, new in incoming.traits.items():
        if new is not None:  # clearing a trait a new contact does not have
            traits[key] = new
            if new != "":
                changes[key] = [None, new]
    tags_added = list(tags.values())
    _stamp_opt_in(columns, changes, opt_in)
    return ChangePlan(True, columns, traits, changes, tags_added, _entry(changes, tags_added))


def _fill_in_identity(
    current: Mapping[str, Any],
    phone: Phone | None,
    user_id: str | None,
    columns: dict[str, Any],
    changes: dict[str, list[Any]],
) -> None:
    """A phone or user id the contact lacks is added; one it has is never replaced."""
    stored_phone, stored_user_id = current.get("phone"), current.get("user_id")
    if phone is not None and stored_phone and stored_phone != phone.e164:
        raise ContactConflict(
            f'user id "{user_id}" belongs to the contact with phone {stored_phone}; a '
            "contact's phone number is never changed",
            field="phone_number",
        )
    if user_id and stored_user_id and stored_user_id != user_id:
        raise ContactConflict(
            f'phone {stored_phone} belongs to the contact with user id "{stored_user_id}"',
            field="user_id",
        )
    if phone is not None and not stored_phone:
        columns.update(_phone_columns(phone))
        changes["phone"] = [None, phone.e164]
    if user_id and not stored_user_id:
        columns["user_id"] = user_id
        changes["user_id"] = [None, user_id]


def _phone_columns(phone: Phone) -> dict[str, str]:
    return {
        "phone": phone.e164,
        "country_code": phone.country_code,
        "phone_number": phone.national_number,
    }


def _merged_traits(
    current: Any, incoming: Mapping[str, Any], changes: dict[str, list[Any]]
) -> dict[str, Any] | None:
    """The traits after merging ``incoming`` into ``current``; None when nothing changes.

    A trait counts as changed when its value or its JSON type does (``5`` -> ``5.0``).
    Traits that are not an object (never written by the services) count as empty.
    """
    have = current if isinstance(current, dict) else {}
    merged: dict[str, Any] | None = None
    for key, new in incoming.items():
        if key in have:
            old = have[key]
            if new is not None and old == new and type(old) is type(new):
                continue
        elif new is None:
            continue
        else:
            old = None
        if merged is None:
            merged = dict(have)
        if new is None:
            del merged[key]
        else:
            merged[key] = new
        changes[key] = [old, new]
    return merged


def _entry(changes: dict[str, list[Any]], tags_added: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"fields": changes}
    if tags_added:
        entry["tags_added"] = tags_added
    return entry


def tags_removed_entry(names: Iterable[str]) -> dict[str, Any]:
    """The activity entry's changes for tags removed (staff only: the web's tag editor and
    bulk action; the API and CSV never remove tags)."""
    return {"fields": {}, "tags_removed": list(names)}


def tags_by_key(tags: Iterable[Tag]) -> dict[str, str]:
    """Incoming tags for :func:`plan_change`, from ``Tag`` rows: stored key -> stored name."""
    return {tag.name_key: tag.name for tag in tags}

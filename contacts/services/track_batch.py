"""Many upserts at once (the Track API's batch), written set-wise with the single upsert's
outcomes.

Each item is exactly a :func:`contacts.services.contact_upsert` call, and the batch answers
what those calls would have answered one after the other: items are checked
(:func:`upsert_input`), matched (:func:`contacts.selectors.match.pick_match`) and planned
(:func:`plan_change`) in order against the batch's rows as the items before them left
them, so two items naming one phone or user id apply in order; an item setting or clearing
WhatsApp opted stamps the contact's ``opted_at`` and ``opt_in_source`` as the single call
does (the API key, the batch's moment). A refused item is only that item's outcome. The
database sees a fixed number of statements per batch: the ids of the contacts the items
name (one read by user id, one by phone, each on its column's index), one locking read of
those contacts in id order, one read of their tag links and of the tags named, then one
statement per table (contacts inserted, contacts updated, tags, tag links, activity).
Custom fields first seen in an item are created as that item is planned (rare: once per
new trait name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from contacts.errors import ServiceError
from contacts.fields import FieldRegistry, field_registry
from contacts.models import Activity, Contact, ContactTag, Tag, tag_key
from contacts.phones import Phone
from contacts.selectors.match import (
    contacts_by_phone_alias,
    contacts_by_user_id_alias,
    pick_match,
)
from contacts.services.actor import Actor
from contacts.services.attributes import attributes_ensure
from contacts.services.batch_sql import select_in
from contacts.services.imports import IMPORT_CREATED, IMPORT_UNCHANGED, IMPORT_UPDATED
from contacts.services.plan import ChangePlan, OptIn, plan_change
from contacts.services.planning import UpsertInput, phone_or_error, upsert_input
from contacts.services.retry import retry_on_integrity_error

# The contact columns a batch reads, plans with and writes back.
_COLUMNS = (
    *("user_id", "phone", "country_code", "phone_number"),
    *("name", "email", "whatsapp_opted", "opted_at", "opt_in_source", "traits"),
)
_NEW_CONTACT = {"user_id": None, "phone": None, "country_code": "", "phone_number": ""}
_NEW_CONTACT |= {"name": "", "email": "", "whatsapp_opted": False, "traits": {}}
_NEW_CONTACT |= {"opted_at": None, "opt_in_source": ""}
_LEFT = ("user_id", "phone", "whatsapp_opted", "opted_at", "opt_in_source")
# A batch is retried whole when a concurrent insert of one of its contacts wins.
_ATTEMPTS = 5
# PostgreSQL: batches take this transaction-level advisory lock, one at a time. Overlapping
# batches inserting the same new phones would otherwise fail each other's inserts again and
# again (each retry redoes 1,000 users); SQLite's writers queue anyway. Single upserts do not
# take it: a clash with one is rare and the retry covers it.
_BATCH_LOCK_ID = int.from_bytes(b"trackbat", "big", signed=True)


@dataclass(frozen=True, slots=True)
class TrackItem:
    """One upsert, as :func:`contact_upsert` takes it (values by field name)."""

    user_id: str | None = None
    phone_number: str | None = None
    country_code: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class TrackOutcome:
    """An item applied: ``IMPORT_CREATED``, ``IMPORT_UPDATED`` or ``IMPORT_UNCHANGED``, and
    the contact's identity and opt-in as that item left it (``opt_in_changed``: the item
    set or cleared WhatsApp opted, stamping ``opted_at`` and ``opt_in_source``)."""

    outcome: str
    contact_id: int
    user_id: str | None
    phone: str | None
    whatsapp_opted: bool = False
    opted_at: datetime | None = None
    opt_in_source: str = ""
    opt_in_changed: bool = False


# Called before each item is checked, with the registry as the items before it left it; a
# returned exception refuses the item (the API's limits on new traits).
ItemCheck = Callable[[int, FieldRegistry], Exception | None]


class _Row:
    """A contact as the batch's items so far leave it (identity compares: see pick_match)."""

    __slots__ = ("changed", "tag_keys", "values", "version")

    def __init__(self, values: dict[str, Any], tag_keys: set[str], version: int) -> None:
        self.values = values
        self.tag_keys = tag_keys
        self.version = version
        self.changed = False


@dataclass(slots=True)
class _Batch:
    """The rows the items name, indexed by user id and phone, and what is to be written."""

    by_user: dict[str, _Row]
    by_phone: dict[str, _Row]
    tag_names: dict[str, str]  # key -> stored name, for tags that exist or are planned
    tag_ids: dict[str, int]  # key -> id, for tags that exist
    # Merged-away user ids and phones, which reach their survivor but are never its identity.
    aliases: set[str] = field(default_factory=set)
    created: list[_Row] = field(default_factory=list)
    entries: list[tuple[_Row, ChangePlan]] = field(default_factory=list)

    def apply(self, row: _Row | None, plan: ChangePlan) -> _Row:
        if row is None:
            row = _Row(dict(_NEW_CONTACT), set(), 0)
            self.created.append(row)
        row.values.update(plan.columns)
        if plan.traits is not None:
            row.values["traits"] = plan.traits
        row.version += 1
        row.changed = True
        if user_id := row.values["user_id"]:
            self.by_user[user_id] = row
        if phone := row.values["phone"]:
            self.by_phone[phone] = row
        for name in plan.tags_added:
            row.tag_keys.add(tag_key(name))
            self.tag_names.setdefault(tag_key(name), name)
        self.entries.append((row, plan))
        return row


def contacts_track_batch(
    *,
    actor: Actor,
    items: Sequence[TrackItem | None],
    create_attributes: bool = True,
    check: ItemCheck | None = None,
) -> list[TrackOutcome | Exception | None]:
    """Upsert each item in order; one outcome per item: a :class:`TrackOutcome`, the
    :class:`ServiceError` (or ``check``'s exception) refusing it, or None for a None item
    (one the caller refused already). One transaction (a savepoint inside the caller's)."""
    return retry_on_integrity_error(
        lambda: _track_locked(actor, items, create_attributes, check),
        what="track batch",
        attempts=_ATTEMPTS,
    )


def _track_locked(
    actor: Actor,
    items: Sequence[TrackItem | None],
    create_attributes: bool,
    check: ItemCheck | None,
) -> list[TrackOutcome | Exception | None]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_BATCH_LOCK_ID])
    batch = _read(items)
    registry = field_registry()
    opt_in = actor.opt_in()  # the single call's stamp, one moment for the whole batch
    pending: list[tuple[str, _Row] | Exception | None] = []
    for index, item in enumerate(items):
        if item is None:
            pending.append(None)
            continue
        try:
            if check is not None and (refusal := check(index, registry)) is not None:
                pending.append(refusal)
                continue
            checked = upsert_input(
                user_id=item.user_id,
                phone_number=item.phone_number,
                country_code=item.country_code,
                values=item.values,
                tags=item.tags,
                create_attributes=create_attributes,
                registry=registry,
            )
            pending.append(_upsert_one(actor, batch, checked, opt_in))
        except ServiceError as exc:
            pending.append(exc)
            continue
        if checked.planned.new_attributes:
            registry = field_registry()
    _write(actor, batch)
    return [
        TrackOutcome(entry[0], entry[1].values["id"], *entry[2:])
        if isinstance(entry, tuple)
        else entry
        for entry in pending
    ]


def _upsert_one(
    actor: Actor, batch: _Batch, checked: UpsertInput, opt_in: OptIn
) -> tuple[Any, ...]:
    """One item matched, planned and applied to the batch's rows: (outcome, row, then the
    identity and opt-in as the item leaves them; see :class:`TrackOutcome`)."""
    user_id, phone, planned, tag_names = checked
    row = pick_match(
        batch.by_user.get(user_id) if user_id else None,
        batch.by_phone.get(phone.e164) if phone else None,
        user_id=user_id,
        phone=phone,
    )
    if row is not None:  # an alias reaches the survivor; the plan must not take it as identity
        if user_id in batch.aliases and row.values["user_id"] != user_id:
            user_id = None
        if phone is not None and phone.e164 in batch.aliases and row.values["phone"] != phone.e164:
            phone = None
    tags = {key: batch.tag_names.get(key, name) for name in tag_names if (key := tag_key(name))}

    def plan() -> ChangePlan:
        current = None if row is None else row.values
        keys = row.tag_keys if row is not None else ()
        return plan_change(
            current,
            planned,
            tags=tags,
            current_tag_keys=keys,
            phone=phone,
            user_id=user_id,
            opt_in=opt_in,
        )

    change = plan()  # refuses a conflicting identity before any custom field is created
    if planned.new_attributes:
        attributes_ensure(planned, actor)
        change = plan()  # a field someone created meanwhile may have coerced a value anew
    if not change.changed:
        return (IMPORT_UNCHANGED, row, *_left(row), False)
    outcome = IMPORT_CREATED if change.creating else IMPORT_UPDATED
    row = batch.apply(row, change)
    return (outcome, row, *_left(row), change.opt_in_changed)


def _left(row: _Row) -> tuple[Any, ...]:
    """The identity and opt-in an item leaves (copied: later items may change the row)."""
    return tuple(row.values[key] for key in _LEFT)


def _identity_keys(items: Sequence[TrackItem | None]) -> tuple[set[str], set[str]]:
    """Every user id and E.164 phone the items name (unchecked items too: reading a contact
    an item will refuse costs nothing)."""
    user_ids: set[str] = set()
    phones: set[str] = set()
    for item in items:
        if item is None:
            continue
        if item.user_id is not None and (user_id := str(item.user_id).strip()):
            user_ids.add(user_id)
        phone: Phone | None = phone_or_error(item.phone_number, item.country_code, [])
        if phone is not None:
            phones.add(phone.e164)
    return user_ids, phones


def _read(items: Sequence[TrackItem | None]) -> _Batch:
    """The contacts the items name, locked in id order (one query, after one unlocked read
    of ids per column), their links to the tags the items name and those tags' stored
    names."""
    user_ids, phones = _identity_keys(items)
    # The matcher's alias rule set-wise: a merged-away id or phone means its survivor.
    alias_users = contacts_by_user_id_alias(sorted(user_ids)) if user_ids else {}
    alias_phones = contacts_by_phone_alias(sorted(phones)) if phones else {}
    survivor_ids = {*alias_users.values(), *alias_phones.values()}
    tag_keys = {
        tag_key(name) for item in items if item for name in item.tags if isinstance(name, str)
    }
    # Each column read on its own index (an ``OR`` of the three makes PostgreSQL read every
    # contact), the ids merged here, then one read locks the rows in id order: locking them
    # column by column could deadlock with a single upsert locking the same two in id order.
    ids = survivor_ids.union(
        *(
            (contact_id for (contact_id,) in select_in(Contact, ("id",), column, sorted(values)))
            for column, values in (("user_id", user_ids), ("phone", phones))
        )
    )
    rows = (
        Contact.objects.select_for_update()
        .filter(pk__in=sorted(ids))
        .order_by("pk")
        .values_list("pk", "version", *_COLUMNS)
        if ids
        else []
    )
    by_id: dict[int, _Row] = {}
    for contact_id, version, *values in rows:
        row = _Row(dict(zip(_COLUMNS, values, strict=True)), set(), version)
        row.values["id"] = contact_id
        row.values["whatsapp_opted"] = bool(row.values["whatsapp_opted"])
        by_id[contact_id] = row
    tag_keys.discard("")
    tag_names: dict[str, str] = {}
    tag_ids: dict[str, int] = {}
    for key, name, tag_id in Tag.objects.filter(name_key__in=tag_keys).values_list(
        "name_key", "name", "pk"
    ):
        tag_names[key], tag_ids[key] = name, tag_id
    if by_id and tag_names:
        for contact_id, key in ContactTag.objects.filter(
            contact_id__in=by_id, tag__name_key__in=tag_names
        ).values_list("contact_id", "tag__name_key"):
            by_id[contact_id].tag_keys.add(key)
    rows_ = by_id.values()
    by_user = {row.values["user_id"]: row for row in rows_ if row.values["user_id"]}
    by_phone = {row.values["phone"]: row for row in rows_ if row.values["phone"]}
    for aliases, index in ((alias_users, by_user), (alias_phones, by_phone)):
        for value, survivor_id in aliases.items():
            if survivor_id in by_id:
                index.setdefault(value, by_id[survivor_id])
    return _Batch(
        by_user=by_user,
        by_phone=by_phone,
        tag_names=tag_names,
        tag_ids=tag_ids,
        aliases={*alias_users, *alias_phones},
    )


def _write(actor: Actor, batch: _Batch) -> None:
    """Carry out the batch's plans: new contacts inserted (in phone order, so that two
    batches inserting the same phones wait for each other instead of deadlocking), changed
    ones updated with their final values, then tags, tag links and activity entries."""
    if not batch.entries:
        return
    now = timezone.now()
    new = sorted(batch.created, key=lambda r: (r.values["phone"] or "", r.values["user_id"] or ""))
    inserted = Contact.objects.bulk_create(
        Contact(**row.values, version=row.version, created_at=now, updated_at=now) for row in new
    )
    instances = {id(row): contact for row, contact in zip(new, inserted, strict=True)}
    for row, contact in zip(new, inserted, strict=True):
        row.values["id"] = contact.pk
    _update([row for row, _ in batch.entries if id(row) not in instances and row.changed], now)
    tag_ids = _tag_ids(batch)
    ContactTag.objects.bulk_create(
        (
            ContactTag(contact_id=row.values["id"], tag_id=tag_ids[tag_key(name)], created_at=now)
            for row, plan in batch.entries
            for name in plan.tags_added
        ),
        ignore_conflicts=True,
    )
    entries = []
    for row, plan in batch.entries:
        contact = instances.get(id(row)) or Contact(pk=row.values["id"])
        kind = Activity.Kind.CREATED if plan.creating else Activity.Kind.UPDATED
        entry = actor.activity(contact=contact, kind=kind, changes=plan.activity or {})
        entry.created_at = now
        entries.append(entry)
    Activity.objects.bulk_create(entries)


def _update(rows: list[_Row], now: Any) -> None:
    """The changed existing contacts' final values, one executemany (each row once)."""
    unique = list({id(row): row for row in rows}.values())
    if not unique:
        return
    ops = connection.ops
    names = [*_COLUMNS, "version", "updated_at"]
    assignments = ", ".join(f"{ops.quote_name(name)} = %s" for name in names)
    stamp = ops.adapt_datetimefield_value(now)
    params = [
        (
            *(row.values[name] for name in _COLUMNS[:-3]),
            ops.adapt_datetimefield_value(row.values["opted_at"]),
            row.values["opt_in_source"],
            ops.adapt_json_value(row.values["traits"], None),
            row.version,
            stamp,
            row.values["id"],
        )
        for row in unique
    ]
    table = ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", params)


def _tag_ids(batch: _Batch) -> dict[str, int]:
    """Ids of the tags the plans link, creating those that do not exist (race-safe)."""
    used = {tag_key(name) for _, plan in batch.entries for name in plan.tags_added}
    missing = used.difference(batch.tag_ids)
    if missing:
        Tag.objects.bulk_create(
            (Tag(name=batch.tag_names[key], name_key=key) for key in missing),
            ignore_conflicts=True,
        )
        batch.tag_ids.update(Tag.objects.filter(name_key__in=missing).values_list("name_key", "pk"))
    return batch.tag_ids

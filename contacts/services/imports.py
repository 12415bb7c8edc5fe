"""Bulk import: many CSV rows' contacts created or updated with set-based queries.

The bulk upload task calls :func:`contacts_import_batch` once per batch of CSV rows. The
rules are the single-contact path's: each row's change is planned by
:func:`contacts.services.plan.plan_change`; this module only reads the current rows for the
whole batch, and carries the plans out with a fixed number of statements per batch (one
``executemany`` or multi-row statement per table).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from contacts.errors import ContactInputError, FieldError
from contacts.models import Activity, Contact, ContactTag, Tag, tag_key
from contacts.phones import Phone
from contacts.selectors.match import contacts_by_phone_alias
from contacts.services.actor import Actor
from contacts.services.batch_sql import insert_returning_ids, insert_rows, select_in, update_by_id
from contacts.services.plan import ChangePlan, OptIn, plan_change, tags_by_key
from contacts.services.retry import retry_on_integrity_error
from contacts.services.tags import clean_tag_names, tags_get_or_create

IMPORT_CREATED = "created"
IMPORT_UPDATED = "updated"
IMPORT_UNCHANGED = "unchanged"
_IMPORT_COLUMNS = ("name", "email", "whatsapp_opted")
# Written by the plan's opt-in stamp when WhatsApp opted changes, never from a cell.
_OPT_IN_COLUMNS = ("opted_at", "opt_in_source")
_CURRENT_COLUMNS = ("id", "phone", *_IMPORT_COLUMNS, *_OPT_IN_COLUMNS, "traits", "version")
_IMPORT_CONTACT_INSERT = (
    *("phone", "country_code", "phone_number", *_IMPORT_COLUMNS, *_OPT_IN_COLUMNS, "traits"),
    *("created_at", "updated_at", "version"),
)
_IMPORT_ACTIVITY_INSERT = (
    *("contact_id", "created_at", "kind", "source", "actor_user_id", "actor_api_key_id"),
    *("upload_job_id", "changes"),
)
_UPDATE_COLUMNS = (*_IMPORT_COLUMNS, *_OPT_IN_COLUMNS, "traits", "version", "updated_at")
_CONTACT_DEFAULTS = {"name": "", "email": "", "whatsapp_opted": False}
_CREATED, _UPDATED = str(Activity.Kind.CREATED), str(Activity.Kind.UPDATED)


class ImportOutcomes(list[str]):
    """One outcome per row (a list, as before), and how many rows set or cleared opt-in."""

    opt_in_changed: int = 0


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row ready to store; values already coerced through the field registry."""

    phone: Phone
    builtin: Mapping[str, Any] = field(default_factory=dict)  # name, email, whatsapp_opted
    traits: Mapping[str, Any] = field(default_factory=dict)  # by attribute key; no None
    tags: Sequence[str] = ()


def contacts_import_batch(
    *, actor: Actor, rows: Sequence[ImportRow], tags: Sequence[Tag] = ()
) -> ImportOutcomes:
    """Create or update the contacts of ``rows`` (matched by phone); one outcome per row.

    Each outcome is ``IMPORT_CREATED``, ``IMPORT_UPDATED`` or ``IMPORT_UNCHANGED``. ``tags``
    are added to every row's contact, with each row's own ``tags``. Runs in one transaction
    (a savepoint inside the caller's, so the caller can commit its progress with the batch).
    Existing rows are locked in phone order, so a concurrent ``contact_upsert`` waits and then
    merges on top; a contact inserted by someone else between the lookup and the insert makes
    the insert fail, and the batch is retried, finding it this time.
    """
    if not rows:
        return ImportOutcomes()
    phones = [row.phone.e164 for row in rows]
    if len(set(phones)) != len(phones):
        raise ValueError("a batch must not hold the same phone twice")
    unwritten = set().union(*(row.builtin for row in rows)).difference(_IMPORT_COLUMNS)
    if unwritten:  # they would be logged as changes and never stored
        raise ValueError(f"an import cannot set {', '.join(sorted(unwritten))}")
    errors: list[FieldError] = []
    row_tag_names = clean_tag_names([name for row in rows for name in row.tags], errors)
    if errors:
        raise ContactInputError(errors)
    return retry_on_integrity_error(
        lambda: _import_batch_locked(actor, rows, phones, list(tags), row_tag_names),
        what="import batch",
    )


def _import_batch_locked(
    actor: Actor,
    rows: Sequence[ImportRow],
    phones: list[str],
    common_tags: list[Tag],
    row_tag_names: list[str],
) -> ImportOutcomes:
    tag_by_key = {tag.name_key: tag for tag in common_tags}
    if row_tag_names:
        for tag in tags_get_or_create(names=row_tag_names):
            tag_by_key.setdefault(tag.name_key, tag)
    existing = _current_by_phone(phones)
    plans = _plan_rows(rows, existing, tags_by_key(common_tags), tag_by_key, actor.opt_in())
    writer = _BatchWriter(actor, {tag.name: tag for tag in tag_by_key.values()})
    outcomes = ImportOutcomes()
    outcomes.opt_in_changed = sum(1 for plan in plans if plan.opt_in_changed)
    created: list[tuple[ImportRow, ChangePlan]] = []
    for row, plan in zip(rows, plans, strict=True):
        if plan.creating:
            created.append((row, plan))
            outcomes.append(IMPORT_CREATED)
        elif plan.changed:
            writer.update(existing[row.phone.e164], plan)
            outcomes.append(IMPORT_UPDATED)
        else:
            outcomes.append(IMPORT_UNCHANGED)
    writer.create(created)
    writer.flush()
    return outcomes


def _current_by_phone(phones: list[str]) -> dict[str, dict[str, Any]]:
    """The batch's existing contacts by phone, locked in phone order (one query; a second,
    in id order, for phones a merge made aliases of a survivor).

    The matcher's rule (``contacts.selectors.match``) set-wise: a row carries a phone and
    never a user id, so its contact is the one with its phone, else the survivor of the
    contact that had it. Such a row's values carry ``"via_alias": True``.
    """
    rows = select_in(Contact, _CURRENT_COLUMNS, "phone", phones, order_by="phone", lock=True)
    existing = {row[1]: _current_row(row) for row in rows}
    missing = [phone for phone in phones if phone not in existing]
    survivors = contacts_by_phone_alias(missing) if missing else {}
    if survivors:
        ids = sorted(set(survivors.values()))
        by_id = {
            row[0]: row
            for row in select_in(Contact, _CURRENT_COLUMNS, "id", ids, order_by="id", lock=True)
        }
        for phone, contact_id in survivors.items():
            existing[phone] = {**_current_row(by_id[contact_id]), "via_alias": True}
    return existing


def _current_row(row: tuple[Any, ...]) -> dict[str, Any]:
    # A dict display, not dict(zip(...)): this runs once per row and is twice as fast.
    contact_id, phone, name, email, whatsapp_opted, opted_at, opt_in_source, traits, version = row
    return {
        "id": contact_id,
        "phone": phone,
        "name": name,
        "email": email,
        "whatsapp_opted": bool(whatsapp_opted),  # SQLite gives 0 or 1
        "opted_at": opted_at,  # as the driver gives it: written back unchanged
        "opt_in_source": opt_in_source,
        # The JSON field's from_db_value, less its checks: a str from the driver is decoded.
        "traits": json.loads(traits) if isinstance(traits, str) else traits,
        "version": version,
    }


def _plan_rows(
    rows: Sequence[ImportRow],
    existing: dict[str, dict[str, Any]],
    common_tags: dict[str, str],
    tag_by_key: dict[str, Tag],
    opt_in: OptIn,
) -> list[ChangePlan]:
    """One plan per row, from the current values read for the whole batch."""
    tag_keys: dict[int, set[str]] = {}
    if existing and tag_by_key:
        key_of = {tag.pk: key for key, tag in tag_by_key.items()}
        ids = [values["id"] for values in existing.values()]
        for contact_id, tag_id in select_in(
            ContactTag, ("contact_id", "tag_id"), "contact_id", ids
        ):
            if tag_id in key_of:
                tag_keys.setdefault(contact_id, set()).add(key_of[tag_id])
    shared = _reached_twice(existing)
    incoming_tags: dict[tuple[str, ...], dict[str, str]] = {}
    plans = []
    for row in rows:
        names = tuple(row.tags)
        tags = incoming_tags.get(names)
        if tags is None:
            own = (tag_by_key[key] for name in names if (key := tag_key(name)))
            tags = incoming_tags[names] = {**common_tags, **tags_by_key(own)}
        current = existing.get(row.phone.e164)
        if shared and current is not None and shared.get(current["id"]) is not None:
            # On top of the batch's earlier rows, as a second single write; the writer's
            # UPDATE starts from these values too.
            via_alias = current.get("via_alias", False)
            current = existing[row.phone.e164] = {**shared[current["id"]], "via_alias": via_alias}
        keys = tag_keys.get(current["id"], ()) if current is not None else ()
        # A merged-away phone reaches its survivor, whose own phone the plan must not replace.
        phone = None if current is not None and current.get("via_alias") else row.phone
        plan = plan_change(
            current, row, tags=tags, current_tag_keys=keys, phone=phone, opt_in=opt_in
        )
        plans.append(plan)
        if shared and current is not None and current["id"] in shared and plan.changed:
            shared[current["id"]] = _applied(current, plan)
            tag_keys[current["id"]] = {*keys, *tags}
    return plans


def _reached_twice(existing: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any] | None]:
    """The contacts two of the batch's phones reach (a survivor's phone and one merged into
    it, or two merged into one survivor), each with its values as the batch's rows so far
    leave them (None: unchanged so far)."""
    if len(existing) < 2:
        return {}
    ids = [values["id"] for values in existing.values()]
    if len(set(ids)) == len(ids):
        return {}
    seen: set[int] = set()
    return {i: None for i in ids if i in seen or seen.add(i)}


def _applied(current: dict[str, Any], plan: ChangePlan) -> dict[str, Any]:
    """``current`` after the writer carries ``plan`` out (values as the writer stores them)."""
    columns = dict(plan.columns)
    if "opted_at" in columns:
        columns["opted_at"] = connection.ops.adapt_datetimefield_value(columns["opted_at"])
    traits = current["traits"] if plan.traits is None else plan.traits
    return {**current, **columns, "traits": traits, "version": current["version"] + 1}


class _BatchWriter:
    """Carries out a batch's plans set-wise: statements are gathered, then run per table."""

    def __init__(self, actor: Actor, tag_by_name: dict[str, Tag]) -> None:
        self.actor = actor
        self.tag_by_name = tag_by_name
        self.ops = connection.ops
        self.now = self.ops.adapt_datetimefield_value(timezone.now())
        self._moment_in: Any = None
        self._moment_out: Any = None
        self.updates: list[tuple[Any, ...]] = []
        self.links: list[tuple[int, int, Any]] = []
        self.activities: list[tuple[int, str, dict[str, Any]]] = []

    def update(self, current: dict[str, Any], plan: ChangePlan) -> None:
        columns, contact_id = plan.columns, current["id"]
        traits = current["traits"] if plan.traits is None else plan.traits
        self.updates.append(
            (
                columns.get("name", current["name"]),
                columns.get("email", current["email"]),
                columns.get("whatsapp_opted", current["whatsapp_opted"]),
                self._moment(columns["opted_at"]) if "opted_at" in columns else current["opted_at"],
                columns.get("opt_in_source", current["opt_in_source"]),
                json.dumps(traits),
                current["version"] + 1,
                self.now,
                contact_id,
            )
        )
        self._linked_and_recorded(contact_id, _UPDATED, plan)

    def create(self, created: list[tuple[ImportRow, ChangePlan]]) -> None:
        if not created:
            return
        dumps, now, moment = json.dumps, self.now, self._moment
        new_ids = insert_returning_ids(
            Contact,
            _IMPORT_CONTACT_INSERT,
            [
                (
                    *(plan.columns[key] for key in ("phone", "country_code", "phone_number")),
                    *(plan.columns.get(key, _CONTACT_DEFAULTS[key]) for key in _IMPORT_COLUMNS),
                    moment(plan.columns.get("opted_at")),
                    plan.columns.get("opt_in_source", ""),
                    dumps(plan.traits),
                    now,
                    now,
                    1,
                )
                for _, plan in created
            ],
            key="phone",
        )
        for row, plan in created:
            self._linked_and_recorded(new_ids[row.phone.e164], _CREATED, plan)

    def _moment(self, value: Any) -> Any:
        # Every row's opt-in stamp is the batch's one moment: adapted once.
        if value is not self._moment_in:
            self._moment_in, self._moment_out = value, self.ops.adapt_datetimefield_value(value)
        return self._moment_out

    def _linked_and_recorded(self, contact_id: int, kind: str, plan: ChangePlan) -> None:
        tag_by_name, now = self.tag_by_name, self.now
        if plan.tags_added:
            self.links.extend((contact_id, tag_by_name[name].pk, now) for name in plan.tags_added)
        self.activities.append((contact_id, kind, plan.activity or {}))

    def flush(self) -> None:
        """Run the gathered UPDATEs and INSERTs of tag links and activity entries."""
        update_by_id(Contact, _UPDATE_COLUMNS, self.updates)
        insert_rows(
            ContactTag, ("contact_id", "tag_id", "created_at"), self.links, ignore_conflicts=True
        )
        actor, now, dumps = self.actor, self.now, json.dumps
        user = actor.user if actor.user is not None and actor.user.is_authenticated else None
        who = (actor.source, user.pk if user else None, actor.api_key.pk if actor.api_key else None)
        job_id = actor.upload_job_id
        insert_rows(
            Activity,
            _IMPORT_ACTIVITY_INSERT,
            [
                (contact_id, now, kind, *who, job_id, dumps(entry))
                for contact_id, kind, entry in self.activities
            ],
        )

"""Bulk import: many CSV rows' contacts created or updated with set-based queries."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import Activity, Contact, ContactTag, Tag
from contacts.phones import Phone
from contacts.services.actor import Actor
from contacts.services.errors import ContactInputError, FieldError
from contacts.services.tags import clean_tag_names, tags_get_or_create

logger = logging.getLogger(__name__)

# --- Bulk import ----------------------------------------------------------------------------
# The bulk upload task calls contacts_import_batch() once per batch of CSV rows. It applies
# the same rules as contact_upsert() (match by phone, merge traits, add-only tags, one activity
# per changed contact) with a fixed number of set-based queries per batch.
IMPORT_CREATED = "created"
IMPORT_UPDATED = "updated"
IMPORT_UNCHANGED = "unchanged"
_IMPORT_COLUMNS = ("name", "email", "whatsapp_opted")
_IMPORT_CONTACT_INSERT = (
    *("phone", "country_code", "phone_number", *_IMPORT_COLUMNS, "traits"),
    *("created_at", "updated_at", "version"),
)
_IMPORT_ACTIVITY_INSERT = (
    *("contact_id", "created_at", "kind", "source", "actor_user_id", "actor_api_key_id"),
    *("upload_job_id", "changes"),
)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row ready to store; values already coerced through the field registry."""

    phone: Phone
    builtin: Mapping[str, Any] = field(default_factory=dict)  # name, email, whatsapp_opted
    traits: Mapping[str, Any] = field(default_factory=dict)  # by attribute key; no None
    tags: Sequence[str] = ()


def contacts_import_batch(
    *, actor: Actor, rows: Sequence[ImportRow], tags: Sequence[Tag] = ()
) -> list[str]:
    """Create or update the contacts of ``rows`` (matched by phone); one outcome per row.

    Each outcome is ``IMPORT_CREATED``, ``IMPORT_UPDATED`` or ``IMPORT_UNCHANGED``. ``tags``
    are added to every row's contact, with each row's own ``tags``. Runs in one transaction
    (a savepoint inside the caller's, so the caller can commit its progress with the batch).
    Existing rows are locked in phone order, so a concurrent ``contact_upsert`` waits and then
    merges on top; a contact inserted by someone else between the lookup and the insert makes
    the insert fail, and the batch is retried, finding it this time.
    """
    if not rows:
        return []
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
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _import_batch_locked(actor, rows, phones, list(tags), row_tag_names)
        except IntegrityError:
            if attempt == 2:
                raise
            logger.info("import batch retried after a concurrent insert")
    raise AssertionError("unreachable")


def _import_batch_locked(
    actor: Actor,
    rows: Sequence[ImportRow],
    phones: list[str],
    common_tags: list[Tag],
    row_tag_names: list[str],
) -> list[str]:
    tag_by_key = {tag.name_key: tag for tag in common_tags}
    if row_tag_names:
        for tag in tags_get_or_create(names=row_tag_names):
            tag_by_key.setdefault(tag.name_key, tag)
    # Rows of (id, phone, name, email, whatsapp_opted, traits, version).
    columns = ("id", "phone", *_IMPORT_COLUMNS, "traits", "version")
    position = {name: index for index, name in enumerate(columns)}
    existing = {
        values[1]: values
        for values in Contact.objects.select_for_update()
        .filter(phone__in=phones)
        .order_by("phone")
        .values_list(*columns)
    }
    linked: set[tuple[int, int]] = set()
    if existing and tag_by_key:
        linked = set(
            ContactTag.objects.filter(
                contact_id__in=[values[0] for values in existing.values()],
                tag_id__in=[t.pk for t in tag_by_key.values()],
            ).values_list("contact_id", "tag_id")
        )
    ops = connection.ops
    adapt_json = ops.adapt_json_value
    now = timezone.now()
    db_now = ops.adapt_datetimefield_value(now)
    outcomes: list[str] = []
    new_rows: list[tuple[ImportRow, list[Tag]]] = []
    updates: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    activities: list[tuple[int, str, dict[str, Any]]] = []
    updated_kind = Activity.Kind.UPDATED
    tags_for: dict[tuple[str, ...], tuple[list[Tag], list[tuple[int, Tag]]]] = {}
    for row in rows:
        names = tuple(row.tags)
        cached = tags_for.get(names)
        if cached is None:
            row_tags = list(common_tags)
            for name in names:
                tag = tag_by_key[" ".join(name.split()).casefold()]
                if tag not in row_tags:
                    row_tags.append(tag)
            cached = tags_for[names] = (row_tags, [(tag.pk, tag) for tag in row_tags])
        row_tags, tag_ids = cached
        found = existing.get(row.phone.e164)
        if found is None:
            new_rows.append((row, row_tags))
            outcomes.append(IMPORT_CREATED)
            continue
        values = list(found)
        changes: dict[str, list[Any]] = {}
        for key, new in row.builtin.items():
            index = position[key]
            old = values[index]
            if old != new:
                values[index] = new
                changes[key] = [old, new]
        traits = values[5] if isinstance(values[5], dict) else {}
        for key, new in row.traits.items():
            old = traits.get(key)
            if key not in traits or old != new or type(old) is not type(new):
                traits[key] = new
                changes[key] = [old, new]
        contact_id = values[0]
        added = [tag for tag_id, tag in tag_ids if (contact_id, tag_id) not in linked]
        if not changes and not added:
            outcomes.append(IMPORT_UNCHANGED)
            continue
        updates.append(
            (
                values[2],
                values[3],
                values[4],
                adapt_json(traits, None),
                values[6] + 1,
                db_now,
                contact_id,
            )
        )
        links.extend((contact_id, tag.pk) for tag in added)
        entry: dict[str, Any] = {"fields": changes}
        if added:
            entry["tags_added"] = [tag.name for tag in added]
        activities.append((contact_id, updated_kind, entry))
        outcomes.append(IMPORT_UPDATED)
    if new_rows:
        execute_many(
            Contact,
            _IMPORT_CONTACT_INSERT,
            [
                (
                    row.phone.e164,
                    row.phone.country_code,
                    row.phone.national_number,
                    row.builtin.get("name", ""),
                    row.builtin.get("email", ""),
                    row.builtin.get("whatsapp_opted", False),
                    ops.adapt_json_value(dict(row.traits), None),
                    db_now,
                    db_now,
                    1,
                )
                for row, _ in new_rows
            ],
        )
        new_ids = dict(
            Contact.objects.filter(phone__in=[row.phone.e164 for row, _ in new_rows]).values_list(
                "phone", "id"
            )
        )
        for row, row_tags in new_rows:
            contact_id = new_ids[row.phone.e164]
            links.extend((contact_id, tag.pk) for tag in row_tags)
            fields = {"phone": [None, row.phone.e164]}
            fields.update({k: [None, v] for k, v in row.builtin.items() if v not in ("", None)})
            fields.update({k: [None, v] for k, v in row.traits.items()})
            entry = {"fields": fields}
            if row_tags:
                entry["tags_added"] = [tag.name for tag in row_tags]
            activities.append((contact_id, Activity.Kind.CREATED, entry))
    if updates:
        table = ops.quote_name(Contact._meta.db_table)
        columns = ", ".join(
            f"{ops.quote_name(c)} = %s"
            for c in (*_IMPORT_COLUMNS, "traits", "version", "updated_at")
        )
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {columns} WHERE id = %s", updates)
    if links:
        execute_many(
            ContactTag,
            ("contact_id", "tag_id", "created_at"),
            [(contact_id, tag_id, db_now) for contact_id, tag_id in links],
            ignore_conflicts=True,
        )
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    execute_many(
        Activity,
        _IMPORT_ACTIVITY_INSERT,
        [
            (
                contact_id,
                db_now,
                kind,
                actor.source,
                user.pk if user else None,
                actor.api_key.pk if actor.api_key else None,
                actor.upload_job_id,
                ops.adapt_json_value(entry, None),
            )
            for contact_id, kind, entry in activities
        ],
    )
    return outcomes


def execute_many(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]], *, ignore_conflicts=False
) -> None:
    """INSERT prepared rows with one executemany.

    ``bulk_create`` builds and compiles a model instance per row, which costs more than the
    database's work at 500,000 rows; the values here are already adapted for the database.
    """
    if not rows:
        return

    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(model._meta.get_field(c).column) for c in columns)
    values = ", ".join(["%s"] * len(columns))
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({values}){suffix}", rows)

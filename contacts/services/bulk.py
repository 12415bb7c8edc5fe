"""Bulk actions from the contact list: tags added or removed and deletes, set-wise, a chunk
at a time; above ``CONTACTHUB_BULK_INLINE_LIMIT`` contacts as a background task."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from contacts.fields import TAGS
from contacts.models import Activity, BulkAction, Contact, ContactTag, Tag
from contacts.services.actor import Actor
from contacts.services.contacts import contacts_delete
from contacts.services.errors import ContactInputError, FieldError, ServiceError
from contacts.services.tags import tags_get_or_create

logger = logging.getLogger(__name__)

# --- Bulk actions from the contact list ---
BULK_CHUNK = 2000


def _bulk_contact_ids(contacts: QuerySet[Contact] | Iterable[int]) -> list[int]:
    if isinstance(contacts, QuerySet):
        return list(contacts.order_by().values_list("pk", flat=True))
    return sorted({int(pk) for pk in contacts})


def _bulk_touch(contact_ids: Sequence[int], now: Any) -> None:

    Contact.objects.filter(pk__in=contact_ids).update(version=F("version") + 1, updated_at=now)


def contacts_tags_add_bulk(
    *, actor: Actor, contacts: QuerySet[Contact] | Iterable[int], names: Iterable[str]
) -> int:
    """Add tags to many contacts at once; returns how many contacts gained a tag.

    Set-based, a chunk of contacts at a time: one read of the links they already have, one
    multi-row INSERT of the missing links, one UPDATE of version/updated time and one
    multi-row INSERT of activity entries per chunk, all in one transaction.
    """
    tags = tags_get_or_create(names=names)
    if not tags:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        ids = _bulk_contact_ids(contacts)
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            locked = list(
                Contact.objects.select_for_update()
                .filter(pk__in=chunk)
                .values_list("pk", flat=True)
            )
            have = set(
                ContactTag.objects.filter(contact_id__in=locked, tag__in=tags).values_list(
                    "contact_id", "tag_id"
                )
            )
            added: dict[int, list[str]] = {}
            links = []
            for contact_id in locked:
                for tag in tags:
                    if (contact_id, tag.pk) not in have:
                        links.append(ContactTag(contact_id=contact_id, tag=tag, created_at=now))
                        added.setdefault(contact_id, []).append(tag.name)
            if not added:
                continue
            ContactTag.objects.bulk_create(links, ignore_conflicts=True, batch_size=BULK_CHUNK)
            _bulk_touch(list(added), now)
            Activity.objects.bulk_create(
                [
                    _bulk_activity(
                        actor, contact_id, {"fields": {}, "tags_added": added_names}, now
                    )
                    for contact_id, added_names in added.items()
                ],
                batch_size=BULK_CHUNK,
            )
            changed += len(added)
    logger.info("tags added to %s contacts by %s via %s", changed, actor.user, actor.source)
    return changed


def contacts_tags_remove_bulk(
    *, actor: Actor, contacts: QuerySet[Contact] | Iterable[int], names: Iterable[str]
) -> int:
    """Remove tags (by name, any case) from many contacts; returns how many lost a tag."""
    keys = {" ".join(n.split()).casefold() for n in names if isinstance(n, str) and n.strip()}
    if not keys:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    tags = list(Tag.objects.filter(name_key__in=keys))
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        ids = _bulk_contact_ids(contacts) if tags else []
        for start in range(0, len(ids), BULK_CHUNK):
            chunk = ids[start : start + BULK_CHUNK]
            list(Contact.objects.select_for_update().filter(pk__in=chunk).values_list("pk"))
            links = ContactTag.objects.filter(contact_id__in=chunk, tag__in=tags)
            removed: dict[int, list[str]] = {}
            for contact_id, tag_name in links.values_list("contact_id", "tag__name"):
                removed.setdefault(contact_id, []).append(tag_name)
            if not removed:
                continue
            links.delete()
            _bulk_touch(list(removed), now)
            Activity.objects.bulk_create(
                [
                    _bulk_activity(
                        actor, contact_id, {"fields": {}, "tags_removed": removed_names}, now
                    )
                    for contact_id, removed_names in removed.items()
                ],
                batch_size=BULK_CHUNK,
            )
            changed += len(removed)
    logger.info("tags removed from %s contacts by %s via %s", changed, actor.user, actor.source)
    return changed


# --- Bulk actions in the background ---
# Above CONTACTHUB_BULK_INLINE_LIMIT contacts, a bulk action from the list is not done in the
# request (on 500,000 contacts it takes minutes, past any web timeout) but by a background
# task, a chunk at a time, each chunk committing the contacts' changes with the progress.


def bulk_inline_limit() -> int:
    """The most contacts a bulk action from the list changes within the request."""
    return int(settings.CONTACTHUB_BULK_INLINE_LIMIT)


def bulk_action_start(
    *,
    actor: Actor,
    kind: str,
    contacts: QuerySet[Contact],
    names: Sequence[str] = (),
    return_url: str = "",
) -> BulkAction:
    """Fix the contacts of a bulk action now and queue it; tags are checked (and created) now."""
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if kind not in BulkAction.Kind.values:
        raise ServiceError(f"unknown bulk action {kind!r}", field="action")
    if kind != BulkAction.Kind.DELETE and not names:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    with transaction.atomic():
        if kind == BulkAction.Kind.TAGS_ADD:
            names = [tag.name for tag in tags_get_or_create(names=names)]
        ids = _bulk_contact_ids(contacts)
        action = BulkAction.objects.create(
            kind=kind,
            tag_names=names,
            contact_ids=ids,
            total=len(ids),
            created_by=actor.user,
            return_url=return_url if len(return_url) <= 2000 else "",
        )
        transaction.on_commit(lambda: _bulk_action_enqueue(action.pk))
    logger.info("bulk action %s (%s on %s contacts) queued", action.pk, kind, len(ids))
    return action


def _bulk_action_enqueue(action_id: int) -> None:
    from contacts.tasks import run_bulk_action

    run_bulk_action.enqueue(action_id)


def _bulk_apply(actor: Actor, kind: str, ids: list[int], names: list[str]) -> int:
    if kind == BulkAction.Kind.TAGS_ADD:
        return contacts_tags_add_bulk(actor=actor, contacts=ids, names=names)
    if kind == BulkAction.Kind.TAGS_REMOVE:
        return contacts_tags_remove_bulk(actor=actor, contacts=ids, names=names)
    return contacts_delete(actor=actor, contacts=Contact.objects.filter(pk__in=ids))


def bulk_action_run(
    *,
    action_id: int,
    chunk_size: int = BULK_CHUNK,
    should_stop: Callable[[], bool] | None = None,
) -> BulkAction:
    """Work through a queued bulk action, a committed chunk at a time (the task's body).

    A run owns the action through its ``attempts`` number; should another run take over (this
    one was thought dead), it stops at its next chunk. ``should_stop`` (the worker is shutting
    down) hands the action back to the queue after the current chunk.
    """
    with transaction.atomic():
        action = BulkAction.objects.select_for_update().get(pk=action_id)
        if action.status != BulkAction.Status.QUEUED:
            return action
        now = timezone.now()
        action.status = BulkAction.Status.RUNNING
        action.started_at = action.started_at or now
        action.heartbeat_at = now
        action.attempts += 1
        action.save()
    ids, run = action.contact_ids, action.attempts
    actor = Actor.web(action.created_by) if action.created_by else Actor.system()
    progress = BulkAction.objects.defer("contact_ids").select_for_update()
    try:
        while True:
            chunk = ids[action.done : action.done + chunk_size]
            with transaction.atomic():
                action = progress.get(pk=action_id)
                if action.status != BulkAction.Status.RUNNING or action.attempts != run:
                    logger.warning("bulk action %s was taken over; stopping", action_id)
                    return action
                changed = _bulk_apply(actor, action.kind, chunk, action.tag_names) if chunk else 0
                action.done += len(chunk)
                action.changed += changed
                action.heartbeat_at = timezone.now()
                if action.done >= action.total:
                    action.status = BulkAction.Status.COMPLETED
                    action.finished_at = action.heartbeat_at
                elif should_stop is not None and should_stop():
                    action.status = BulkAction.Status.QUEUED
                    transaction.on_commit(lambda: _bulk_action_enqueue(action_id))
                action.save(
                    update_fields=["done", "changed", "heartbeat_at", "status", "finished_at"]
                )
            if action.status != BulkAction.Status.RUNNING:
                return action
    except Exception:
        logger.exception("bulk action %s failed", action_id)
        BulkAction.objects.filter(pk=action_id, attempts=run).update(
            status=BulkAction.Status.FAILED,
            finished_at=timezone.now(),
            error_message="an unexpected error (the details are in the server log)",
        )
        raise


def bulk_action_resume_if_stalled(*, action_id: int) -> bool:
    """Queue a running action again when its worker stopped committing (killed or lost)."""
    stale = timedelta(seconds=int(settings.BULKUPLOAD_STALE_SECONDS))
    with transaction.atomic():
        queued = BulkAction.objects.filter(
            pk=action_id,
            status=BulkAction.Status.RUNNING,
            heartbeat_at__lt=timezone.now() - stale,
        ).update(status=BulkAction.Status.QUEUED, heartbeat_at=timezone.now())
        if queued:
            logger.warning("bulk action %s stalled; queued again", action_id)
            transaction.on_commit(lambda: _bulk_action_enqueue(action_id))
    return bool(queued)


def _bulk_activity(actor: Actor, contact_id: int, changes: dict[str, Any], now: Any) -> Activity:
    entry = actor.activity(
        contact=Contact(pk=contact_id), kind=Activity.Kind.UPDATED, changes=changes
    )
    entry.created_at = now
    return entry

"""Bulk actions from the contact list: tags added or removed and deletes, set-wise, a chunk
at a time; above ``CONTACTHUB_BULK_INLINE_LIMIT`` contacts as a background task."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Generator, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from contacts.errors import ContactInputError, FieldError, ServiceError
from contacts.fields import TAGS
from contacts.models import (
    Activity,
    BulkAction,
    BulkActionContact,
    Contact,
    ContactTag,
    Tag,
    tag_key,
)
from contacts.services.actor import Actor
from contacts.services.contacts import contacts_delete
from contacts.services.plan import (
    NO_VALUES,
    ChangePlan,
    plan_change,
    tags_by_key,
    tags_removed_entry,
)
from contacts.services.tags import tags_get_or_create
from contacts.tasks import run_bulk_action
from jobs.models import FINISHED
from jobs.registry import JobKind, PruneReport
from jobs.runner import JobRun, job_run

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
    multi-row INSERT of activity entries per chunk, all in one transaction. What each contact
    gains (and its activity entry) is planned by ``plan_change``, as for one contact.
    """
    tags = tags_get_or_create(names=names)
    if not tags:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    changed = 0
    now = timezone.now()
    with transaction.atomic():
        ids = _bulk_contact_ids(contacts)
        for start in range(0, len(ids), BULK_CHUNK):
            changed += _tags_add_chunk(actor, ids[start : start + BULK_CHUNK], tags, now)
    logger.info("tags added to %s contacts by %s via %s", changed, actor.user, actor.source)
    return changed


def _tags_add_chunk(actor: Actor, chunk: list[int], tags: list[Tag], now: Any) -> int:
    locked = list(
        Contact.objects.select_for_update().filter(pk__in=chunk).values_list("pk", flat=True)
    )
    key_of = {tag.pk: tag.name_key for tag in tags}
    have: dict[int, set[str]] = {}
    links = ContactTag.objects.filter(contact_id__in=locked, tag__in=tags)
    for contact_id, tag_id in links.values_list("contact_id", "tag_id"):
        have.setdefault(contact_id, set()).add(key_of[tag_id])
    incoming = tags_by_key(tags)
    plans: list[tuple[int, ChangePlan]] = []
    for contact_id in locked:
        # {}: the contact's stored values are not read; tags are all this write changes.
        plan = plan_change({}, NO_VALUES, tags=incoming, current_tag_keys=have.get(contact_id, ()))
        if plan.changed:
            plans.append((contact_id, plan))
    if not plans:
        return 0
    tag_by_name = {tag.name: tag for tag in tags}
    ContactTag.objects.bulk_create(
        [
            ContactTag(contact_id=contact_id, tag=tag_by_name[name], created_at=now)
            for contact_id, plan in plans
            for name in plan.tags_added
        ],
        ignore_conflicts=True,
        batch_size=BULK_CHUNK,
    )
    _bulk_touch([contact_id for contact_id, _ in plans], now)
    Activity.objects.bulk_create(
        [_bulk_activity(actor, contact_id, plan.activity or {}, now) for contact_id, plan in plans],
        batch_size=BULK_CHUNK,
    )
    return len(plans)


def contacts_tags_remove_bulk(
    *, actor: Actor, contacts: QuerySet[Contact] | Iterable[int], names: Iterable[str]
) -> int:
    """Remove tags (by name, any case) from many contacts; returns how many lost a tag."""
    keys = {tag_key(n) for n in names if isinstance(n, str) and n.strip()}
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
                    _bulk_activity(actor, contact_id, tags_removed_entry(removed_names), now)
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
    """Fix the contacts of a bulk action now and queue it; tags are checked (and created) now.

    The contacts' ids go into :class:`BulkActionContact`, a chunk of rows per INSERT, in id
    order; the run reads them back a chunk at a time.
    """
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if kind not in BulkAction.Kind.values:
        raise ServiceError(f"unknown bulk action {kind!r}", field="action")
    if kind != BulkAction.Kind.DELETE and not names:
        raise ContactInputError([FieldError(TAGS, "Tags", "give at least one tag")])
    with transaction.atomic():
        if kind == BulkAction.Kind.TAGS_ADD:
            names = [tag.name for tag in tags_get_or_create(names=names)]
        ids = sorted(_bulk_contact_ids(contacts))
        action = BulkAction.objects.create(
            kind=kind,
            tag_names=names,
            total=len(ids),
            created_by=actor.user,
            return_url=return_url if len(return_url) <= 2000 else "",
        )
        for start in range(0, len(ids), BULK_CHUNK):
            BulkActionContact.objects.bulk_create(
                BulkActionContact(action=action, position=start + offset, contact_id=contact_id)
                for offset, contact_id in enumerate(ids[start : start + BULK_CHUNK])
            )
        transaction.on_commit(lambda: BULK_ACTIONS.enqueue(action.pk))
    logger.info("bulk action %s (%s on %s contacts) queued", action.pk, kind, len(ids))
    return action


def bulk_action_contact_ids(action: BulkAction, *, start: int, count: int) -> list[int]:
    """The action's contacts at positions ``start`` to ``start + count``, in order."""
    rows = BulkActionContact.objects.filter(
        action=action, position__gte=start, position__lt=start + count
    )
    return list(rows.order_by("position").values_list("contact_id", flat=True))


def _bulk_apply(actor: Actor, kind: str, ids: list[int], names: list[str]) -> int:
    if kind == BulkAction.Kind.TAGS_ADD:
        return contacts_tags_add_bulk(actor=actor, contacts=ids, names=names)
    if kind == BulkAction.Kind.TAGS_REMOVE:
        return contacts_tags_remove_bulk(actor=actor, contacts=ids, names=names)
    return contacts_delete(actor=actor, contacts=Contact.objects.filter(pk__in=ids))


def bulk_action_work(run: JobRun, *, chunk_size: int = BULK_CHUNK) -> Generator[None, None, None]:
    """The action, a committed chunk of contacts at a time, after the last committed one."""
    action = run.job
    assert isinstance(action, BulkAction)
    actor = Actor.job_starter(action.created_by)
    while True:
        with run.checkpoint() as action:
            assert isinstance(action, BulkAction)
            chunk = bulk_action_contact_ids(action, start=action.done, count=chunk_size)
            changed = _bulk_apply(actor, action.kind, chunk, action.tag_names) if chunk else 0
            action.done += len(chunk)
            action.changed += changed
            if not chunk or action.done >= action.total:
                action.status = BulkAction.Status.COMPLETED
        yield


def bulk_action_run(
    *,
    action_id: int,
    chunk_size: int = BULK_CHUNK,
    should_stop: Callable[[], bool] | None = None,
) -> BulkAction:
    """Work through a queued bulk action outside a worker (tests, the bench), as its task does.

    ``should_stop`` is asked after each committed chunk: yes hands the action back to the
    queue. Failures are recorded on the action (see ``jobs.runner.job_run``).
    """
    work = functools.partial(bulk_action_work, chunk_size=chunk_size)
    action = job_run(BULK_ACTIONS, job_id=action_id, work=work, should_stop=should_stop)
    assert isinstance(action, BulkAction)
    return action


def bulk_actions_prune(*, older_than: timedelta, dry_run: bool) -> PruneReport:
    """Forget the contact selections of bulk actions finished more than ``older_than`` ago.

    The action itself (kind, status, counts) stays for the list of bulk actions.
    """
    cutoff = timezone.now() - older_than
    finished = BulkAction.objects.filter(status__in=FINISHED, finished_at__lt=cutoff)
    selections = BulkActionContact.objects.filter(action__in=finished)
    counts = dict(
        selections.order_by()
        .values_list("action_id")
        .annotate(rows=Count("pk"))
        .values_list("action_id", "rows")
    )
    verb = "would remove" if dry_run else "removed"
    lines = [
        f"Bulk action {action.pk} {action} finished {action.finished_at:%Y-%m-%d}: "
        f"{verb} {counts[action.pk]:,} selected contact id(s)"
        for action in BulkAction.objects.filter(pk__in=counts).order_by("pk")
    ]
    if not dry_run and counts:
        BulkActionContact.objects.filter(action_id__in=list(counts)).delete()
    rows = sum(counts.values())
    return PruneReport(
        lines=lines, summary=f"{len(counts)} bulk action(s), {rows:,} selected contact id(s)"
    )


BULK_ACTIONS = JobKind(
    name="bulk_actions",
    noun="bulk action",
    model=BulkAction,
    task=run_bulk_action,
    work=bulk_action_work,
    prune=bulk_actions_prune,
)


def _bulk_activity(actor: Actor, contact_id: int, changes: dict[str, Any], now: Any) -> Activity:
    entry = actor.activity(
        contact=Contact(pk=contact_id), kind=Activity.Kind.UPDATED, changes=changes
    )
    entry.created_at = now
    return entry

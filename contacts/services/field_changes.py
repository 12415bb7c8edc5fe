"""Changes to a custom field that outlast a request, as resumable jobs (``jobs``).

- **Change kind**: every contact's value is converted by the new kind
  (``Kind.convert``); a value that does not convert is taken off the contact and kept as a
  :class:`~contacts.models.FieldChangeLeftover` of the change (downloadable as CSV from
  the Fields page), never dropped silently. The preview is a read:
  ``contacts.selectors.field_values``.
- **Delete**: every contact's value is removed, then the field (and its index).
- **Index / drop index**: the expression index is built ``CONCURRENTLY`` on PostgreSQL
  (``field_index``), which cannot run in a transaction nor commit in chunks: a thread
  keeps the job's heartbeat (and the build's progress) while the statement runs.

The values are rewritten a chunk of contacts at a time, in id order after ``after_id``,
each chunk committing the contacts, one activity entry per contact whose value changed,
the leftovers and the progress together. While a kind change or a delete runs, the field
is ``changing``: ``Field.parse`` refuses every value for it, so that no value is written in
the old kind behind the job or into a field about to go; the last chunk converts what a
writer that read the field before the job started wrote behind it anyway.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from contacts.errors import ContactInputError, FieldError
from contacts.kinds import CoercionError, kind_for
from contacts.models import Activity, Attribute, Contact, FieldChange, FieldChangeLeftover
from contacts.selectors.field_values import kind_change_target
from contacts.services.actor import Actor
from contacts.services.field_index import (
    field_index,
    field_index_create,
    field_index_drop,
    field_index_names,
)
from contacts.tasks import run_field_change
from jobs.models import ACTIVE
from jobs.registry import JobKind
from jobs.runner import JobFailed, JobRun, job_run

logger = logging.getLogger(__name__)

FIELD_CHANGE_CHUNK = 1000
Operation = FieldChange.Operation


def _refuse(attribute: Attribute, problem: str, key: str = "field") -> ContactInputError:
    return ContactInputError([FieldError(key, attribute.label, problem)])


def _start(
    *, actor: Actor, attribute_id: int, operation: str, prepare: Callable[[Attribute], dict]
) -> FieldChange:
    with transaction.atomic():
        attribute = Attribute.objects.select_for_update().get(pk=attribute_id)
        running = FieldChange.objects.filter(attribute=attribute, status__in=ACTIVE).first()
        if running is not None:
            raise _refuse(attribute, f"a change is already running ({running})")
        options = prepare(attribute)
        change = FieldChange.objects.create(
            operation=operation,
            attribute=attribute,
            field_key=attribute.key,
            field_label=attribute.label,
            from_type=attribute.type,
            created_by=actor.user if actor.user and actor.user.is_authenticated else None,
            **options,
        )
        transaction.on_commit(lambda: FIELD_CHANGES.enqueue(change.pk))
    logger.info("field change %s (%s of %s) queued", change.pk, operation, attribute.key)
    return change


def _values_total(attribute: Attribute) -> int:
    return Contact.objects.filter(traits__has_key=attribute.key).count()


def field_kind_change_start(*, actor: Actor, attribute_id: int, to_type: str) -> FieldChange:
    """Queue converting the field's values to ``to_type``; writes to it wait meanwhile."""

    def prepare(attribute: Attribute) -> dict:
        kind_change_target(attribute, to_type)
        if attribute.indexed:
            raise _refuse(attribute, "is indexed: drop its index before changing its kind")
        attribute.changing = True
        attribute.save(update_fields=["changing"])
        return {"to_type": to_type, "total": _values_total(attribute)}

    return _start(
        actor=actor, attribute_id=attribute_id, operation=Operation.CHANGE_KIND, prepare=prepare
    )


def field_delete_start(*, actor: Actor, attribute_id: int) -> FieldChange:
    """Queue deleting the field with its values; it leaves the pickers at once."""

    def prepare(attribute: Attribute) -> dict:
        attribute.changing = attribute.hidden = True
        attribute.save(update_fields=["changing", "hidden"])
        return {"total": _values_total(attribute)}

    return _start(
        actor=actor, attribute_id=attribute_id, operation=Operation.DELETE, prepare=prepare
    )


def field_index_start(*, actor: Actor, attribute_id: int, indexed: bool) -> FieldChange:
    """Queue building (``indexed``) or dropping the field's index."""

    def prepare(attribute: Attribute) -> dict:
        if indexed:
            field_index(attribute)  # refuses a kind that cannot be indexed, naming the field
        return {"total": 1}

    operation = Operation.INDEX if indexed else Operation.UNINDEX
    return _start(actor=actor, attribute_id=attribute_id, operation=operation, prepare=prepare)


# --- the job ------------------------------------------------------------------------------


def field_change_work(
    run: JobRun, *, chunk_size: int = FIELD_CHANGE_CHUNK
) -> Generator[None, None, None]:
    change = run.job
    assert isinstance(change, FieldChange)
    if change.attribute_id is None:
        raise JobFailed("the field no longer exists")
    if change.operation in (Operation.INDEX, Operation.UNINDEX):
        yield from _index_work(run)
    else:
        yield from _values_work(run, chunk_size)


def _values_work(run: JobRun, chunk_size: int) -> Generator[None, None, None]:
    change = run.job
    assert isinstance(change, FieldChange)
    actor = Actor.job_starter(change.created_by)
    while True:
        with run.checkpoint() as change:
            assert isinstance(change, FieldChange)
            contacts = list(
                Contact.objects.select_for_update()
                .filter(pk__gt=change.after_id, traits__has_key=change.field_key)
                .order_by("pk")
                .only("pk", "traits", "version")[:chunk_size]
            )
            _rewrite(change, contacts, actor)
            if contacts:
                change.after_id = contacts[-1].pk
                change.done += len(contacts)
                change.total = max(change.total, change.done)
            else:
                _catch_up(change, actor)
                _finish_values(change)
        if change.status != FieldChange.Status.RUNNING:
            return
        yield


def _rewrite(change: FieldChange, contacts: list[Contact], actor: Actor) -> None:
    """New values (or none) for ``contacts``, an activity entry per contact whose value
    changed, the values that did not convert kept aside; counted on ``change``."""
    if not contacts:
        return
    key, label = change.field_key, change.field_label
    source = kind_for(change.from_type)
    target = None if change.operation == Operation.DELETE else kind_for(change.to_type)
    now = timezone.now()
    changed: list[Contact] = []
    entries: list[Activity] = []
    leftovers: list[FieldChangeLeftover] = []
    for contact in contacts:
        old = contact.traits[key]
        new = None
        if target is not None:
            try:
                new = target.convert(old, source, label=label)
            except CoercionError:
                leftovers.append(
                    FieldChangeLeftover(change=change, contact_id=contact.pk, value=old)
                )
            if new is not None and new == old and type(new) is type(old):
                continue
        if new is None:
            del contact.traits[key]
        else:
            contact.traits[key] = new
        contact.version += 1
        contact.updated_at = now
        changed.append(contact)
        # The kinds, so that the timeline shows each value as its own kind reads it.
        changes = {
            "fields": {key: [old, new]},
            "field_change": change.pk,
            "old_kind": change.from_type,
            "new_kind": change.to_type,
        }
        entry = actor.activity(contact=contact, kind=Activity.Kind.UPDATED, changes=changes)
        entry.created_at = now
        entries.append(entry)
    Contact.objects.bulk_update(changed, ["traits", "version", "updated_at"])
    Activity.objects.bulk_create(entries)
    FieldChangeLeftover.objects.bulk_create(leftovers, ignore_conflicts=True)
    change.changed += len(changed)
    change.unconverted += len(leftovers)


def _catch_up(change: FieldChange, actor: Actor) -> None:
    """Values written behind the job: by a writer that read the field before the job
    started (an import's long run), to a contact the job had already passed.

    Every write records an activity entry (the rule every entry point obeys), so these
    contacts are the ones with a change of the field since the job started that the job
    did not make; they are converted (or cleared) like the rest, in this last chunk.
    """
    key = change.field_key
    written = (
        Activity.objects.filter(created_at__gte=change.started_at, changes__fields__has_key=key)
        .exclude(changes__has_key="field_change")
        .values("contact_id")
    )
    contacts = list(
        Contact.objects.select_for_update()
        .filter(pk__in=written, pk__lte=change.after_id, traits__has_key=key)
        .order_by("pk")
        .only("pk", "traits", "version")
    )
    if change.operation != Operation.DELETE:
        converted = kind_for(change.to_type)
        # Already converted by the job and not written since: nothing to do.
        contacts = [c for c in contacts if not _holds(converted, c.traits[key])]
    _rewrite(change, contacts, actor)


def _holds(kind: Any, value: Any) -> bool:
    """Whether ``value`` is already as ``kind`` stores it (reads back to itself)."""
    try:
        again = kind.convert(value, kind)
    except (TypeError, ValueError, AttributeError):  # CoercionError is a ValueError
        return False
    return again == value and type(again) is type(value)


def _finish_values(change: FieldChange) -> None:
    """The last chunk: the field takes its new kind, or goes (its index first)."""
    attribute = Attribute.objects.select_for_update().get(pk=change.attribute_id)
    if change.operation == Operation.DELETE:
        if attribute.indexed:
            # A plain DROP INDEX inside the chunk's transaction: no contact has a value left,
            # so the index is empty and the drop brief.
            with connection.cursor() as cursor:
                for name in field_index_names(attribute.key):
                    cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
        change.attribute = None
        attribute.delete()
    else:
        attribute.type = change.to_type
        attribute.changing = False
        attribute.save(update_fields=["type", "changing"])
    change.total = change.done
    change.status = FieldChange.Status.COMPLETED


def _index_work(run: JobRun) -> Generator[None, None, None]:
    change = run.job
    assert isinstance(change, FieldChange)
    attribute = Attribute.objects.get(pk=change.attribute_id)
    # Nothing to resume half-way: a build that was cut off left an invalid index, which
    # field_index_create drops and builds again; a drop is idempotent.
    with _heartbeat_while(run):
        if change.operation == Operation.INDEX:
            field_index_create(attribute)
        else:
            field_index_drop(attribute)
    with run.checkpoint() as change:
        change.done = change.total
        change.status = FieldChange.Status.COMPLETED
    yield


@contextmanager
def _heartbeat_while(run: JobRun, every: float = 5.0) -> Iterator[None]:
    """Keep the job's heartbeat (and the build's progress) from a second connection while
    one long statement runs on this one, so that the job is not taken for stalled.

    PostgreSQL only: SQLite has one writer at a time, and its build blocks writers anyway.
    """
    if connection.vendor != "postgresql":
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                progress = _index_build_progress()
                FieldChange.objects.filter(pk=run.job.pk, lease=run.lease).update(
                    heartbeat_at=timezone.now(), **progress
                )
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"field-change-{run.job.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _index_build_progress() -> dict[str, int]:
    """The running index build's progress on the contacts table (blocks, else tuples)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT blocks_done, blocks_total, tuples_done, tuples_total "
            "FROM pg_stat_progress_create_index WHERE relid = %s::regclass",
            [Contact._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None:
        return {}
    blocks_done, blocks_total, tuples_done, tuples_total = row
    if tuples_total:
        return {"done": tuples_done, "total": tuples_total}
    if blocks_total:
        return {"done": blocks_done, "total": blocks_total}
    return {}


def field_change_run(
    *,
    change_id: int,
    chunk_size: int = FIELD_CHANGE_CHUNK,
    should_stop: Callable[[], bool] | None = None,
) -> FieldChange:
    """Carry out a queued field change in this process (tests, the bench), as its task does."""
    work = functools.partial(field_change_work, chunk_size=chunk_size)
    change = job_run(FIELD_CHANGES, job_id=change_id, work=work, should_stop=should_stop)
    assert isinstance(change, FieldChange)
    return change


FIELD_CHANGES = JobKind(
    name="field_changes",
    noun="field change",
    model=FieldChange,
    task=run_field_change,
    work=field_change_work,
)

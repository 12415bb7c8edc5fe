"""Finding probable duplicates: contacts grouped set-wise in SQL, one query per reason.

A :class:`~contacts.models.DuplicateScan` is a resumable job (``jobs``): each reason is one
committed chunk, so a stopped worker carries on with the next reason. Its groups replace the
previous scan's when it completes. Pairs marked "not duplicates" never come back: a group
keeps only the contacts that are in at least one unmarked pair with another member.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import CharField, Count, StringAgg, Value
from django.db.models.functions import Cast, Lower, StrIndex, Substr
from django.utils import timezone

from contacts.errors import MergeRefused
from contacts.models import Contact, DuplicateGroup, DuplicateScan, NotDuplicatePair
from contacts.services.actor import Actor
from contacts.tasks import run_duplicate_scan
from jobs.models import ACTIVE, FINISHED
from jobs.registry import JobKind, PruneReport
from jobs.runner import JobRun, job_run

GROUP_INSERT_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class FoundGroup:
    reason: str
    contact_ids: list[int]


def _ids(expression: str = "id") -> StringAgg:
    return StringAgg(Cast(expression, CharField()), Value(","))


def _same_email() -> Iterator[FoundGroup]:
    rows = (
        Contact.objects.exclude(email="")
        .values(key=Lower("email"))
        .annotate(n=Count("id"), ids=_ids())
        .filter(n__gt=1)
        .order_by("key")
    )
    for row in rows.iterator(chunk_size=GROUP_INSERT_CHUNK):
        yield FoundGroup(f"same email {row['key']}", _parse(row["ids"]))


def _same_national_phone() -> Iterator[FoundGroup]:
    rows = (
        Contact.objects.exclude(phone_number="")
        .values("phone_number")
        .annotate(codes=Count("country_code", distinct=True), ids=_ids())
        .filter(codes__gt=1)
        .order_by("phone_number")
    )
    for row in rows.iterator(chunk_size=GROUP_INSERT_CHUNK):
        reason = f"same phone digits {row['phone_number']} under different country codes"
        yield FoundGroup(reason, _parse(row["ids"]))


def _same_name_and_domain() -> Iterator[FoundGroup]:
    at = StrIndex("email", Value("@"))
    rows = (
        Contact.objects.exclude(name="")
        .filter(email__contains="@")
        .values(lname=Lower("name"), domain=Lower(Substr("email", at + 1)))
        .annotate(n=Count("id"), emails=Count(Lower("email"), distinct=True), ids=_ids())
        # Only different addresses: one address is the email reason's group already.
        .filter(n__gt=1, emails__gt=1)
        .order_by("lname", "domain")
    )
    for row in rows.iterator(chunk_size=GROUP_INSERT_CHUNK):
        yield FoundGroup(
            f"same name {row['lname']} and email domain {row['domain']}", _parse(row["ids"])
        )


def _parse(ids: str) -> list[int]:
    return sorted(int(pk) for pk in ids.split(","))


# The reasons, in the order a scan works through them (one committed chunk each).
REASONS: tuple[Callable[[], Iterator[FoundGroup]], ...] = (
    _same_email,
    _same_national_phone,
    _same_name_and_domain,
)


def not_duplicate_pairs() -> set[tuple[int, int]]:
    return set(NotDuplicatePair.objects.values_list("low_id", "high_id"))


def without_marked_pairs(ids: list[int], marked: set[tuple[int, int]]) -> list[int]:
    """The members of ``ids`` in at least one pair nobody marked "not duplicates"."""
    keep: set[int] = set()
    for low, high in itertools.combinations(sorted(ids), 2):
        if (low, high) not in marked:
            keep.update((low, high))
    return sorted(keep)


def duplicates_find(marked: set[tuple[int, int]] | None = None) -> Iterator[FoundGroup]:
    """Every group of probable duplicates, reason by reason (``manage.py find_duplicates``)."""
    marked = not_duplicate_pairs() if marked is None else marked
    for reason in REASONS:
        yield from _unmarked(reason(), marked)


def _unmarked(groups: Iterable[FoundGroup], marked: set[tuple[int, int]]) -> Iterator[FoundGroup]:
    marked_ids = {pk for pair in marked for pk in pair}
    for group in groups:
        ids = group.contact_ids
        if not marked_ids.isdisjoint(ids):
            ids = without_marked_pairs(ids, marked)
        if len(ids) > 1:
            yield FoundGroup(group.reason, ids)


def duplicate_scan_start(*, actor: Actor, enqueue: bool = True) -> DuplicateScan:
    """Queue a scan; one already queued or running is returned instead of a second.

    ``enqueue=False`` leaves it to the caller to run (``manage.py find_duplicates``)."""
    with transaction.atomic():
        active = DuplicateScan.objects.select_for_update().filter(status__in=ACTIVE).first()
        if active is not None:
            return active
        scan = DuplicateScan.objects.create(total=len(REASONS), created_by=actor.user)
        if enqueue:
            transaction.on_commit(lambda: DUPLICATE_SCANS.enqueue(scan.pk))
    return scan


def duplicate_scan_work(run: JobRun) -> Generator[None, None, None]:
    """One reason per committed chunk, after the last committed one; the last chunk drops
    the groups of earlier scans."""
    marked = not_duplicate_pairs()
    while True:
        with run.checkpoint() as scan:
            assert isinstance(scan, DuplicateScan)
            # A resumed scan redoes the reason it was in: its uncommitted groups are gone.
            groups = _unmarked(REASONS[scan.done](), marked)
            _store(scan, groups)
            scan.done += 1
            if scan.done >= len(REASONS):
                DuplicateGroup.objects.exclude(scan=scan).delete()
                scan.status = DuplicateScan.Status.COMPLETED
        yield


def _store(scan: DuplicateScan, groups: Iterable[FoundGroup]) -> None:
    rows = (
        DuplicateGroup(scan=scan, reasons=[g.reason], contact_ids=g.contact_ids) for g in groups
    )
    while batch := list(itertools.islice(rows, GROUP_INSERT_CHUNK)):
        DuplicateGroup.objects.bulk_create(batch)


def duplicate_scan_run(
    *, scan_id: int, should_stop: Callable[[], bool] | None = None
) -> DuplicateScan:
    """Carry out a queued scan in this process (the command, tests, the bench)."""
    scan = job_run(DUPLICATE_SCANS, job_id=scan_id, should_stop=should_stop)
    assert isinstance(scan, DuplicateScan)
    return scan


def duplicates_mark_not(*, actor: Actor, contact_ids: Iterable[int]) -> int:
    """Mark every pair of ``contact_ids`` "not duplicates"; returns how many pairs were new."""
    ids = sorted({int(pk) for pk in contact_ids})
    if len(ids) < 2:
        raise MergeRefused("choose at least two contacts that are not duplicates")
    pairs = [
        NotDuplicatePair(low_id=low, high_id=high, created_by=actor.user)
        for low, high in itertools.combinations(ids, 2)
    ]
    with transaction.atomic():
        before = NotDuplicatePair.objects.count()
        NotDuplicatePair.objects.bulk_create(pairs, ignore_conflicts=True)
        return NotDuplicatePair.objects.count() - before


def duplicate_scans_prune(*, older_than: timedelta, dry_run: bool) -> PruneReport:
    """Drop the groups of searches finished more than ``older_than`` ago (``prune_jobs``).

    A completed search's groups are replaced by the next one's, but those of a search that
    failed or was cancelled part-way stay until then. The latest completed search's groups
    are the Duplicates page's list and stay, however old; every search's record stays.
    """
    cutoff = timezone.now() - older_than
    finished = DuplicateScan.objects.filter(status__in=FINISHED, finished_at__lt=cutoff)
    current = (
        DuplicateScan.objects.filter(status=DuplicateScan.Status.COMPLETED)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    groups = DuplicateGroup.objects.filter(scan__in=finished.exclude(pk=current))
    counts = dict(
        groups.order_by().values_list("scan_id").annotate(n=Count("pk")).values_list("scan_id", "n")
    )
    verb = "would remove" if dry_run else "removed"
    lines = [
        f"Duplicate search {scan.pk} ({scan.get_status_display()}) finished "
        f"{scan.finished_at:%Y-%m-%d}: {verb} {counts[scan.pk]:,} group(s)"
        for scan in DuplicateScan.objects.filter(pk__in=counts).order_by("pk")
    ]
    if not dry_run and counts:
        DuplicateGroup.objects.filter(scan_id__in=list(counts)).delete()
    summary = f"{len(counts)} duplicate search(s), {sum(counts.values()):,} group(s)"
    return PruneReport(lines=lines, summary=summary)


DUPLICATE_SCANS = JobKind(
    name="duplicate_scans",
    noun="duplicate search",
    model=DuplicateScan,
    task=run_duplicate_scan,
    work=duplicate_scan_work,
    prune=duplicate_scans_prune,
)

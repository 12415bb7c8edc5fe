"""Jobs across kinds: resuming stalled ones, running one in a worker, pruning old ones.

Nothing here runs in a web request's GET: stalled jobs are resumed by the worker (each run
starts by resuming what other workers left stalled) and by ``manage.py resume_jobs``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from jobs.models import JobStatus, ResumableJob
from jobs.registry import JobKind, PruneReport, job_kinds
from jobs.runner import job_run
from jobs.timing import stale_after
from jobs.workers import shutdown_requested

logger = logging.getLogger(__name__)


def job_resume_if_stalled(kind: JobKind, *, job_id: int) -> bool:
    """Queue a running job again when its worker stopped committing (killed or lost).

    The conditional update makes sure only one caller queues it; the new run takes a fresh
    lease, so should the old worker be merely slow, it stops at its next chunk.
    """
    cutoff = timezone.now() - stale_after()
    with transaction.atomic():
        queued = kind.model.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(status=JobStatus.QUEUED, heartbeat_at=timezone.now())
        if queued:
            logger.warning("%s %s stalled; queued again", kind.noun, job_id)
            transaction.on_commit(lambda: kind.enqueue(job_id))
    return bool(queued)


def jobs_stalled(kind: JobKind) -> list[int]:
    """Ids of running jobs of a kind whose worker has not committed for :func:`stale_after`."""
    cutoff = timezone.now() - stale_after()
    stalled = kind.model.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
    return list(stalled.order_by("pk").values_list("pk", flat=True))


def jobs_resume_stalled(kinds: list[JobKind] | None = None) -> dict[str, list[int]]:
    """Queue again every stalled job (of every kind by default); their ids by kind name."""
    resumed: dict[str, list[int]] = {}
    for kind in job_kinds() if kinds is None else kinds:
        ids = [
            job_id for job_id in jobs_stalled(kind) if job_resume_if_stalled(kind, job_id=job_id)
        ]
        resumed[kind.name] = ids
    return resumed


def job_run_in_worker(kind: JobKind, *, job_id: int) -> ResumableJob:
    """A task's body: resume what other workers left stalled, then run this job.

    The job goes back to the queue at its next chunk when the worker is asked to stop.
    """
    jobs_resume_stalled()
    with shutdown_requested() as stopping:
        return job_run(kind, job_id=job_id, should_stop=stopping.is_set)


@dataclass(frozen=True, slots=True)
class KindHealth:
    kind: JobKind
    running: int
    stalled: list[int]


def jobs_health() -> list[KindHealth]:
    """Running and stalled jobs of each kind, for ``/healthz`` (one or two queries a kind)."""
    cutoff = timezone.now() - stale_after()
    health = []
    for kind in job_kinds():
        running = kind.model.objects.filter(status=JobStatus.RUNNING)
        counts = running.aggregate(
            running=Count("pk"), stalled=Count("pk", filter=Q(heartbeat_at__lt=cutoff))
        )
        stalled = jobs_stalled(kind) if counts["stalled"] else []
        health.append(KindHealth(kind, counts["running"], stalled))
    return health


def jobs_prune(
    *, older_than: timedelta, dry_run: bool, kinds: Collection[str] | None = None
) -> list[tuple[JobKind, PruneReport]]:
    """Each kind's cleanup of its jobs finished (or abandoned) more than ``older_than`` ago;
    ``kinds`` (names) limits it to those kinds."""
    return [
        (kind, kind.prune(older_than=older_than, dry_run=dry_run))
        for kind in job_kinds()
        if kind.prune is not None and (kinds is None or kind.name in kinds)
    ]

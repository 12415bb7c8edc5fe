"""Running a resumable job: claim, a committed chunk at a time, hand back, reconnect, fail.

A run claims a queued job under a new lease and drives the kind's work. The work commits
every chunk through :meth:`JobRun.checkpoint`, which locks the job, checks that this run
still holds the lease, and saves the heartbeat and the progress in the chunk's own
transaction: a worker killed at any point leaves the job exactly as of its last chunk, and
a run that was thought dead (another took over) stops at its next chunk. Between chunks
the run hands the job back to the queue when its worker is asked to stop.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from jobs.models import JobStatus, ResumableJob
from jobs.registry import JobKind, Work
from jobs.timing import database_wait

logger = logging.getLogger(__name__)

# The same chunk losing the database this many times in a row is not an outage: it fails.
MAX_RETRIES_PER_CHUNK = 5
UNEXPECTED_ERROR = "an unexpected error (the details are in the server log)"


class LeaseLost(Exception):
    """Another run took over the job (this one was thought dead)."""


class JobFailed(Exception):
    """Raised by a kind's work for a failure its users can act on; the message is shown."""


def job_finish(job: ResumableJob, status: str, message: str = "") -> None:
    """Record a job's end (the caller holds its row lock)."""
    job.status = status
    job.finished_at = timezone.now()
    job.error_message = message
    job.lease = ""
    job.save()


class JobRun:
    """One run's hold on one job: its lease, and the transaction each chunk commits in."""

    def __init__(self, kind: JobKind, job: ResumableJob, lease: str) -> None:
        self.kind = kind
        self.job = job
        self.lease = lease

    def locked(self) -> ResumableJob:
        """The job, row-locked, as long as this run still owns it (else :class:`LeaseLost`)."""
        job = self.kind.model.objects.select_for_update().get(pk=self.job.pk)
        if job.lease != self.lease or job.status != JobStatus.RUNNING:
            raise LeaseLost
        return job

    @contextmanager
    def checkpoint(self) -> Iterator[ResumableJob]:
        """A transaction holding the job: the chunk's writes, its progress and heartbeat.

        The work updates the yielded job's counters; setting its status to a finished one
        (completed, cancelled) ends the job in the same commit.
        """
        with transaction.atomic():
            job = self.locked()
            yield job
            if job.status == JobStatus.RUNNING:
                job.heartbeat_at = timezone.now()
                job.save()
            else:
                job_finish(job, job.status, job.error_message)
        self.job = job

    def reconnect(self, lost: DatabaseError) -> None:
        """Wait for the database after a lost connection; reload the job as last committed.

        A restarted or unreachable database server raises ``OperationalError`` or
        ``InterfaceError`` in the middle of a chunk. Nothing of that chunk was committed (the
        job's progress commits with its writes), so the run reconnects and carries on after
        the last committed chunk. Should the database stay away longer than
        :func:`database_wait`, the error is raised again: the job keeps its progress, its
        heartbeat goes stale, and it is resumed as a stalled job.
        """
        if connection.in_atomic_block:  # an outer transaction is lost with the connection
            raise lost
        noun, job_id = self.kind.noun, self.job.pk
        logger.warning("%s %s lost its database connection (%s); retrying", noun, job_id, lost)
        deadline = time.monotonic() + database_wait()
        pause = 0.5
        while True:
            connection.close()
            try:
                with self.checkpoint():
                    pass  # a heartbeat under the lease: the database is back and the job ours
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() + pause > deadline:
                    logger.error("%s %s: the database did not come back; giving up", noun, job_id)
                    raise exc from lost
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
                continue
            logger.warning("%s %s: carrying on after %s done", noun, job_id, self.job.done)
            return

    def hand_back(self) -> None:
        """Queue the job again at a chunk boundary (its worker is stopping)."""
        kind, job_id = self.kind, self.job.pk
        with transaction.atomic():
            job = self.locked()
            job.status = JobStatus.QUEUED
            job.lease = ""
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["status", "lease", "heartbeat_at"])
            transaction.on_commit(lambda: kind.enqueue(job_id))
        self.job = job
        logger.warning("%s %s handed back to the queue after %s done", kind.noun, job_id, job.done)


def job_claim(kind: JobKind, job_id: int) -> JobRun | None:
    """Take a queued job under a new lease; None when it is not queued (any more)."""
    lease = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        job = kind.model.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.QUEUED:
            return None
        job.status = JobStatus.RUNNING
        job.lease = lease
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.attempts += 1
        job.save()
    return JobRun(kind, job, lease)


def job_run(
    kind: JobKind,
    *,
    job_id: int,
    work: Work | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ResumableJob:
    """Claim a queued job and carry it out (or on); returns the job as it was left.

    ``work`` replaces the kind's own (to pass it options); ``should_stop`` is asked after
    every committed chunk and, when it answers yes, the job goes back to the queue. A lost
    database connection is waited out (:meth:`JobRun.reconnect`); :class:`JobFailed` fails
    the job with its message; any other error fails it with :data:`UNEXPECTED_ERROR` and is
    raised again for the worker's log. ``BaseException`` (the process being killed) leaves
    the job running, to be resumed once its heartbeat is stale.
    """
    run = job_claim(kind, job_id)
    if run is None:
        return kind.model.objects.get(pk=job_id)
    work = work or kind.work
    try:
        failures_at: dict[int, int] = {}
        while True:
            try:
                _drive(run, work, should_stop)
                break
            except (OperationalError, InterfaceError) as exc:
                # The chunk in flight was rolled back with its progress: carry on after the
                # last committed one once the database answers again. The same chunk failing
                # again and again is not an outage; it fails the job like any other error.
                run.reconnect(exc)
                failures_at[run.job.done] = failures_at.get(run.job.done, 0) + 1
                if failures_at[run.job.done] > MAX_RETRIES_PER_CHUNK:
                    raise
    except LeaseLost:
        logger.warning("%s %s was taken over by another run; stopping", kind.noun, job_id)
    except JobFailed as exc:
        _fail(run, str(exc))
    except Exception:
        logger.exception("%s %s failed", kind.noun, job_id)
        _fail(run, UNEXPECTED_ERROR)
        raise
    return kind.model.objects.get(pk=job_id)


def _drive(run: JobRun, work: Work, should_stop: Callable[[], bool] | None) -> None:
    # closing(): a work left between chunks releases what it holds (an open file) at once.
    with closing(work(run)) as chunks:
        for _ in chunks:
            if run.job.status != JobStatus.RUNNING:
                return
            if should_stop is not None and should_stop():
                run.hand_back()
                return


def _fail(run: JobRun, message: str) -> None:
    with transaction.atomic():
        try:
            job = run.locked()
        except LeaseLost:
            return  # another run owns the job now: its outcome is that run's to record
        job_finish(job, JobStatus.FAILED, message)

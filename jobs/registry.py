"""The kinds of resumable job: each app registers its own from its ``AppConfig.ready``.

This app knows nothing of uploads or contacts; a kind tells it the model that holds the
jobs, the task that runs one (enqueued with the job's id, never the instance) and the work
that carries it out a chunk at a time (see :mod:`jobs.runner`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from django.tasks import Task

if TYPE_CHECKING:
    from jobs.models import ResumableJob
    from jobs.runner import JobRun

# The work of a kind: it commits each chunk through ``run.checkpoint()`` and yields after
# each commit so that the runner can stop between chunks.
Work = Callable[["JobRun"], Generator[None, None, None]]


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a kind's cleanup removed (or, in a dry run, would): one line a job, a summary."""

    lines: list[str]
    summary: str


class Prune(Protocol):
    def __call__(self, *, older_than: timedelta, dry_run: bool) -> PruneReport: ...


@dataclass(eq=False)
class JobKind:
    """One kind of job. Not frozen: tests swap ``enqueue`` to queue on a real backend."""

    name: str  # a stable key: "uploads", "bulk_actions"
    noun: str  # for messages: "upload", "bulk action"
    model: type[ResumableJob]
    task: Task  # takes the job's id
    work: Work
    prune: Prune | None = None

    def enqueue(self, job_id: int) -> None:
        """Queue the kind's task for this job (call it from ``transaction.on_commit``)."""
        self.task.enqueue(job_id)


_kinds: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> JobKind:
    """Add a kind (from its app's ``ready()``); a second kind under the same name is a bug."""
    registered = _kinds.setdefault(kind.name, kind)
    if registered is not kind:
        raise ValueError(f"job kind {kind.name!r} is already registered")
    return kind


def job_kinds() -> list[JobKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.name)


def job_kind_for(model: type[ResumableJob]) -> JobKind:
    for kind in _kinds.values():
        if kind.model is model:
            return kind
    raise LookupError(f"{model.__name__} is not a registered job kind")

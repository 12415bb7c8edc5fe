"""Overview latency at scale, next to the contact list's first page.

    DATABASE_URL=sqlite:////tmp/bench-overview.sqlite3 \
        .venv/bin/python bench/overview.py --contacts 500000 --repeat 20
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ch_bench_list \
        .venv/bin/python bench/overview.py --contacts 500000 --repeat 20

The contacts are ``bench/list_pages.py``'s (loaded by its ``load``, or reused when the
database already holds that many): contacts spread over two years, 0-3 of 20 tags each, five
custom fields, 500 contacts from one upload. Ten finished ``UploadJob`` rows are added when
missing (bench data, written straight to the table).

Both pages are called through Django's test ``Client`` (middleware, session, permissions,
rendering), with tasks queued in the database as in production (no worker runs them here).
The Overview is timed "warm" (a stored snapshot younger than ``SNAPSHOT_TTL``: most requests),
"stale, queues the recount" (the stored snapshot made out of date before each call, untimed,
so that the request reads it, wins the conditional UPDATE and queues the task: the most a
request pays), and "stale, recount already asked for" (every other request until the worker
has stored the recount). Then the worker's side: the recount task (count, draw, store), and
each part alone, to show where its time goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import list_pages
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bulkupload.models import UploadJob
from contacts.fields import field_registry
from overview import charts, selectors, snapshots
from overview.models import OverviewSnapshot
from overview.tasks import refresh_overview_snapshot

REFRESH_TASK = "overview.tasks.refresh_overview_snapshot"
QUEUED_IN_DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def add_upload_jobs(count: int = 10) -> None:
    missing = count - UploadJob.objects.exclude(status=UploadJob.Status.DRAFT).count()
    UploadJob.objects.bulk_create(
        UploadJob(
            original_name=f"bench-{n}.csv",
            status=UploadJob.Status.COMPLETED,
            rows_created=1000 + n,
            rows_updated=200,
            rows_unchanged=50,
            rows_failed=n,
        )
        for n in range(max(0, missing))
    )


def queries_of(call: Callable[[], object]) -> int:
    seen: list[str] = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    return len(seen)


def row(label: str, samples: list[float], queries: int | str = "") -> None:
    print(
        f"{label:48} {statistics.median(samples):8.1f} "
        f"{list_pages.percentile(samples, 95):8.1f} {queries!s:>7}"
    )


def make_stale(*, asked: bool) -> None:
    """The stored snapshot out of date; ``asked``: another request has asked for a recount."""
    now = timezone.now()
    OverviewSnapshot.objects.update(
        counted_at=now - timedelta(seconds=snapshots.SNAPSHOT_TTL + 1),
        refresh_requested_at=now if asked else None,
    )


def timed_after(setup: Callable[[], object], call: Callable[[], object], repeat: int) -> list:
    """Like ``list_pages.timed``, with ``setup`` run untimed before each call."""
    for _ in range(3):
        setup()
        call()
    samples = []
    for _ in range(repeat):
        setup()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(repeat: int) -> None:
    user, _ = User.objects.get_or_create(username="bench-list", defaults={"is_superuser": True})
    user.is_superuser = True
    user.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def list_page() -> None:
        assert client.get("/").status_code == 200

    def overview() -> None:
        assert client.get("/overview/").status_code == 200

    registry = field_registry()
    stored = snapshots.snapshot_refresh(registry)
    snapshot = stored.snapshot
    stored_row = OverviewSnapshot.objects.get()
    svg = sum(len(chart) for chart in stored_row.charts.values())
    print(
        f"\n{connection.vendor}, {snapshot.totals.contacts.count:,} contacts, "
        f"{snapshot.days_total:,} of them in the last 90 days, {repeat} runs each (ms); "
        f"stored snapshot: {len(str(stored_row.numbers)):,} characters of numbers, {svg:,} of SVG\n"
        f"{'':48} {'median':>8} {'p95':>8} {'queries':>7}"
    )
    with override_settings(TASKS=QUEUED_IN_DATABASE):
        row_of("contact list, first page", list_pages.timed(list_page, repeat), list_page)
        snapshots.snapshot_refresh(registry)
        row_of("overview, warm (stored snapshot)", list_pages.timed(overview, repeat), overview)
        for label, asked in (
            ("overview, stale: queues the recount", False),
            ("overview, stale: recount already asked for", True),
        ):
            samples = timed_after(lambda asked=asked: make_stale(asked=asked), overview, repeat)
            make_stale(asked=asked)
            row_of(label, samples, overview)
        DBTaskResult.objects.filter(task_path=REFRESH_TASK).delete()
    snapshots.snapshot_refresh(registry)

    print("the worker's recount (not in any request):")
    parts = max(5, repeat // 2)

    def recount_task() -> None:
        make_stale(asked=True)
        refresh_overview_snapshot.call(timezone.now().isoformat())

    for label, call in (
        ("  recount task: count, draw, store", recount_task),
        ("  count the snapshot (5 queries)", lambda: selectors.count_snapshot(registry)),
        ("  draw its charts (pygal, 3 charts)", lambda: snapshots.snapshot_draw(snapshot)),
        ("    of which the per-day chart", lambda: _draw_per_day(snapshot)),
    ):
        row(label, list_pages.timed(call, parts), queries_of(call))
    print("parts of the count, alone:")
    for label, call in (
        ("  contacts per day by source (90 days)", lambda: selectors.contacts_per_day(registry)),
        ("  top 10 tags (every tag link)", lambda: selectors.top_tags(registry)),
        ("  total, opted in, field fill (every contact)", lambda: _contacts(registry)),
        ("  last 10 uploads (every request)", lambda: list(selectors.last_uploads())),
    ):
        row(label, list_pages.timed(call, parts))


def row_of(label: str, samples: list[float], call: Callable[[], object]) -> None:
    """A row, with the queries of one more call (made as the timed ones were)."""
    row(label, samples, queries_of(call))


def _contacts(registry) -> None:
    selectors.count_contacts_pass(registry)


def _draw_per_day(snapshot) -> None:
    charts.draw_per_day(snapshot.days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    list_pages.load(args.contacts)
    add_upload_jobs()
    measure(args.repeat)


if __name__ == "__main__":
    main()

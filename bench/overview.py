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
rendering). The Overview is timed "cold" (the cache emptied before every call: what one
request in ``SNAPSHOT_TTL`` seconds pays, counting the snapshot and drawing the charts) and
"warm" (every other request). Then each part alone, to show where the time goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import list_pages
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client

from bulkupload.models import UploadJob
from contacts.fields import field_registry
from overview import charts, selectors


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
        f"{label:44} {statistics.median(samples):8.1f} "
        f"{list_pages.percentile(samples, 95):8.1f} {queries!s:>7}"
    )


def measure(repeat: int) -> None:
    user, _ = User.objects.get_or_create(username="bench-list", defaults={"is_superuser": True})
    user.is_superuser = True
    user.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def list_page() -> None:
        assert client.get("/").status_code == 200

    def overview_warm() -> None:
        assert client.get("/overview/").status_code == 200

    def overview_cold() -> None:
        cache.clear()
        overview_warm()

    registry = field_registry()
    snapshot = selectors.count_snapshot(registry)
    print(
        f"\n{connection.vendor}, {snapshot.totals.contacts.count:,} contacts, "
        f"{snapshot.days_total:,} of them in the last 90 days, {repeat} runs each (ms)\n"
        f"{'':44} {'median':>8} {'p95':>8} {'queries':>7}"
    )
    for label, call in (
        ("contact list, first page", list_page),
        ("overview, warm (snapshot and charts cached)", overview_warm),
        ("overview, cold (counted and drawn now)", overview_cold),
    ):
        row(label, list_pages.timed(call, repeat), queries_of(call))
    print("its parts alone (cold):")
    for label, call in (
        ("  contacts per day by source (90 days)", lambda: selectors.contacts_per_day(registry)),
        ("  last 10 uploads", lambda: list(selectors.last_uploads())),
        ("  top 10 tags (every tag link)", lambda: selectors.top_tags(registry)),
        ("  total, opted in, field fill (every contact)", lambda: _contacts(registry)),
        ("  snapshot (these, and new in 7/30 days)", lambda: selectors.count_snapshot(registry)),
        ("  drawing the per-day chart (pygal)", lambda: _draw_per_day(snapshot)),
    ):
        row(label, list_pages.timed(call, max(5, repeat // 2)))


def _contacts(registry) -> None:
    selectors.count_contacts_pass(registry)


def _draw_per_day(snapshot) -> None:
    cache.clear()
    charts.per_day_chart(snapshot.days)


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

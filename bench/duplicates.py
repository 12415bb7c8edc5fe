"""Finding duplicates at scale: load generated contacts, plant duplicates, time the search.

    DATABASE_URL=sqlite:////work/main/var/bench-dups.sqlite3 \
        .venv/bin/python bench/duplicates.py --contacts 500000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ch_bench_dups \
        .venv/bin/python bench/duplicates.py --contacts 500000

The contacts come from ``bench/list_pages.py``'s loader (bench data, inserted straight into
the tables). Then, set-wise, 1% of them get the email of their neighbour in other case, 1%
the name and email domain of their neighbour, and 0.5% a twin with the same national digits
under country code 44. The search runs as the job runs it (``duplicate_scan_run``: the three
reasons, each one committed chunk); the figures are wall time, the groups found, and peak
memory: Python's own (tracemalloc) and the process's resident peak (ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.db import connection, transaction
from list_pages import load  # sets Django up: before the project's modules

from contacts.models import Contact, DuplicateGroup, DuplicateScan
from contacts.services import Actor
from contacts.services.duplicates import duplicate_scan_run, duplicate_scan_start


def plant(count: int) -> None:
    """Make about 2.5% of the contacts probable duplicates (idempotent: keyed on ids)."""
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        same_email = [(ids[i], ids[i + 1]) for i in range(0, len(ids) - 1, 100)]
        for first, second in same_email:
            email = f"twin{first}@example.com"
            Contact.objects.filter(pk=first).update(email=email)
            Contact.objects.filter(pk=second).update(email=email.upper())
        same_name = [(ids[i], ids[i + 1]) for i in range(50, len(ids) - 1, 100)]
        for first, second in same_name:
            Contact.objects.filter(pk__in=[first, second]).update(name=f"Same Name {first}")
            Contact.objects.filter(pk=first).update(email=f"a{first}@shop{first}.in")
            Contact.objects.filter(pk=second).update(email=f"b{first}@shop{first}.in")
        twins = Contact.objects.filter(pk__in=ids[25::200]).values_list("phone_number", flat=True)
        Contact.objects.filter(country_code="44").delete()
        Contact.objects.bulk_create(
            [
                Contact(country_code="44", phone_number=digits, phone=f"+44{digits}")
                for digits in twins
            ],
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=500_000)
    args = parser.parse_args()
    twins = len(range(25, args.contacts, 200))
    if Contact.objects.count() != args.contacts + twins:  # else: loaded and planted before
        load(args.contacts)
    started = time.perf_counter()
    plant(args.contacts)
    print(f"planted duplicates in {time.perf_counter() - started:.0f} s")
    print(f"load average before the search: {os.getloadavg()}")
    tracemalloc.start()
    elapsed, cpu, scan = scan_timed()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    groups = DuplicateGroup.objects.filter(scan=scan).count()
    print(
        f"{connection.vendor}: {Contact.objects.count():,} contacts, find_duplicates "
        f"{elapsed:.1f} s wall, {cpu:.1f} s CPU of this process ({scan.status}), {groups:,} "
        f"groups; peak Python memory during the search {python_peak / 2**20:.1f} MiB, "
        f"process peak RSS {rss:.0f} MiB"
    )
    # tracemalloc slows Python down: the same search again, untraced, for its time.
    elapsed, cpu, scan = scan_timed()
    print(f"again without tracemalloc: {elapsed:.1f} s wall, {cpu:.1f} s CPU ({scan.status})")


def scan_timed() -> tuple[float, float, DuplicateScan]:
    """One search as the job runs it: wall and CPU seconds of this process (SQLite's work
    included, PostgreSQL's server not), and the finished scan."""
    started, cpu = time.perf_counter(), time.process_time()
    scan = duplicate_scan_run(scan_id=duplicate_scan_start(actor=Actor.system(), enqueue=False).pk)
    return time.perf_counter() - started, time.process_time() - cpu, scan


if __name__ == "__main__":
    main()

"""CPU cost per row of ``contacts_import_batch`` on a re-import (SQLite), best of N.

    .venv/bin/python bench/import_batch_cpu.py                 # 20,000 rows, batches of 1,000
    .venv/bin/python bench/import_batch_cpu.py --rows 50000 --repeat 5 --top 20

Generates rows with ``bench/import_generate.py`` (the file and a changed copy with the same
phones), plans them with the ``RowPlanner`` the import builds (not timed), migrates a fresh
SQLite database (``var/bench-batch.sqlite3``, whatever ``DATABASE_URL`` says) with
``manage.py migrate``, imports the rows once with the tag "Bench", and keeps a copy of that
database. Each timed run starts from the copy and passes every batch through
``contacts_import_batch`` in its own transaction, as the upload task does, timing only that
call with ``time.process_time``: the same rows again (all unchanged), then the changed copy
(all updated). The prepared rows are moved out of the garbage collector's way (``gc.freeze``),
so that its full passes cost about what they would in the upload task, which holds one batch
at a time, not the whole file. Prints µs per row of the best run, the outcome counts and,
with ``--top``, a cProfile of one more run of each.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "var" / "bench-batch.sqlite3"
SUFFIXES = ("", "-wal", "-shm")


def setup_django(database: Path) -> None:
    """A fresh SQLite database at ``database``, migrated by ``manage.py migrate``."""
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in SUFFIXES:
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacthub.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True
    )
    sys.path.insert(0, str(ROOT))
    sys.path.append(str(ROOT / "bench"))  # after the apps: bench/overview.py is not the app
    import django

    django.setup()


def read_rows(rows: int, variant: int) -> tuple[list[str], list[list[str]]]:
    """Header and records of a generated CSV, as ``csv.reader`` gives them."""
    from import_generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        generate(path, rows, variant)
        with path.open(newline="", encoding="utf-8") as handle:
            records = list(csv.reader(handle))
    return records[0], records[1:]


def import_rows(mapping: list[dict[str, Any]], records: list[list[str]]) -> list[Any]:
    """The ``ImportRow`` of every record, as the upload task builds them."""
    from bulkupload.mapping import RowPlanner
    from contacts.fields import field_registry
    from contacts.services import ImportRow

    planner = RowPlanner(mapping, field_registry(), list_separator=";")
    rows = []
    for cells in records:
        planned = planner.plan(cells)
        assert not planned.errors and planned.phone is not None, planned.errors
        rows.append(ImportRow(planned.phone, planned.builtin, planned.traits, planned.tags))
    return rows


def run(rows: Sequence[Any], batch: int, tags: list[Any]) -> tuple[float, Counter[str]]:
    """CPU seconds spent in ``contacts_import_batch`` for every batch, and the outcomes."""
    from django.db import transaction

    from contacts.services import Actor, contacts_import_batch

    actor = Actor.upload(user=None, upload_job_id=1)
    outcomes: Counter[str] = Counter()
    spent = 0.0
    for first in range(0, len(rows), batch):
        chunk = rows[first : first + batch]
        with transaction.atomic():
            start = time.process_time()
            result = contacts_import_batch(actor=actor, rows=chunk, tags=tags)
            spent += time.process_time() - start
        outcomes.update(result)
    return spent, outcomes


def restore(database: Path, snapshot: Path) -> None:
    """Put the database back as it was after the first import."""
    from django.db import connection

    connection.close()
    for suffix in SUFFIXES:
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(snapshot, database)


def profile(work: Callable[[], Any], top: int) -> str:
    profiler = cProfile.Profile(time.process_time)  # CPU: steadier on a shared machine
    profiler.enable()
    work()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=0, help="profile lines (0: no profile)")
    parser.add_argument("--database", type=Path, default=DEFAULT_DB, help="SQLite file")
    args = parser.parse_args()

    setup_django(args.database)
    from django.db import connection
    from import_cpu import import_mapping

    from contacts.services import tags_get_or_create

    headers, first = read_rows(args.rows, 0)
    _, changed = read_rows(args.rows, 1)
    mapping = import_mapping(headers, first[:50])
    scenarios = {
        "unchanged": import_rows(mapping, first),
        "changed": import_rows(mapping, changed),
    }
    tags = tags_get_or_create(names=["Bench"])
    gc.collect()
    gc.freeze()
    _, created = run(scenarios["unchanged"], args.batch, tags)
    connection.close()
    snapshot = args.database.with_suffix(".snapshot")
    shutil.copyfile(args.database, snapshot)

    print(f"rows: {args.rows:,}  batch: {args.batch:,}  repeats: {args.repeat}")
    print(f"first import: {dict(created)}  python: {sys.version.split()[0]}")
    try:
        for name, rows in scenarios.items():
            results = []
            for _ in range(args.repeat):
                restore(args.database, snapshot)
                results.append(run(rows, args.batch, tags))
            best = min(seconds for seconds, _ in results)
            counts = {repr(dict(outcomes)) for _, outcomes in results}
            print(
                f"re-import, {name}: best {best * 1e6 / len(rows):.1f} µs/row  runs (CPU s): "
                + ", ".join(f"{seconds:.3f}" for seconds, _ in results)
                + f"  outcomes: {', '.join(counts)}"
            )
            if args.top:
                restore(args.database, snapshot)
                print(profile(lambda rows=rows: run(rows, args.batch, tags), args.top))
    finally:
        connection.close()
        snapshot.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

"""CPU cost per row of the bulk import's planning step (``RowPlanner.plan``), no database writes.

    .venv/bin/python bench/import_cpu.py                # 50,000 rows, best of 3, then a profile
    .venv/bin/python bench/import_cpu.py --rows 200000 --repeat 5 --top 25

Generates rows with ``bench/import_generate.py``, creates the custom fields that
``manage.py import_contacts`` creates for ``bench/import_bench.py``'s mapping (on a fresh
SQLite file, ``var/bench-cpu.sqlite3``), builds the planner the import builds, and times
``planner.plan(cells)`` over every row with ``time.process_time`` (CPU of this process, so
other load on the machine disturbs it little). A fresh planner per repeat, so its per-column
caches start empty as in a real import. Prints the best repeat in µs per row, a digest of
every planned row (equal digests mean equal results), and a cProfile of one more pass.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import hashlib
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "var" / "bench-cpu.sqlite3"


def setup_django(database: Path) -> None:
    """A fresh, migrated SQLite database at ``database``; never the caller's DATABASE_URL."""
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacthub.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def read_rows(rows: int) -> tuple[list[str], list[list[str]]]:
    """Header and records of a generated CSV, as ``csv.reader`` gives them."""
    sys.path.append(str(ROOT / "bench"))  # after the apps: bench/overview.py is not the app
    from import_generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        generate(path, rows)
        with path.open(newline="", encoding="utf-8") as handle:
            records = list(csv.reader(handle))
    return records[0], records[1:]


def import_mapping(headers: list[str], sample: list[list[str]]) -> list[dict[str, Any]]:
    """The mapping ``import_contacts`` confirms for the benchmark's ``--map`` options."""
    from import_bench import MAPS

    from bulkupload.management.commands.import_contacts import Command
    from bulkupload.services import Inspection
    from contacts import services
    from contacts.fields import field_registry

    inspection = Inspection("utf-8", ",", headers, sample, len(sample))
    mapping = Command()._mapping(inspection, MAPS[1::2])
    for entry in mapping:
        if entry.get("kind") != "new":
            continue
        existing = field_registry().resolve(entry["label"])
        if existing is None:
            existing = services.attribute_create(label=entry["label"], type=entry["type"])
        key = existing.key
        entry.clear()
        entry.update({"kind": "field", "key": key})
    return mapping


def plan_all(mapping: list[dict[str, Any]], rows: list[list[str]]) -> tuple[float, str]:
    """CPU seconds to plan every row with a fresh planner, and a digest of the results."""
    from bulkupload.mapping import RowPlanner
    from contacts.fields import field_registry

    planner = RowPlanner(mapping, field_registry(), list_separator=";")
    plan = planner.plan
    planned = []
    append = planned.append
    start = time.process_time()
    for cells in rows:
        append(plan(cells))
    elapsed = time.process_time() - start
    digest = hashlib.sha256()
    for row in planned:
        digest.update(repr(row).encode())
    return elapsed, digest.hexdigest()[:16]


def profile(mapping: list[dict[str, Any]], rows: list[list[str]], top: int) -> str:
    from bulkupload.mapping import RowPlanner
    from contacts.fields import field_registry

    planner = RowPlanner(mapping, field_registry(), list_separator=";")
    profiler = cProfile.Profile(time.process_time)  # CPU: steadier on a shared machine
    profiler.enable()
    for cells in rows:
        planner.plan(cells)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=15, help="profile lines (0: no profile)")
    parser.add_argument("--database", type=Path, default=DEFAULT_DB, help="SQLite file")
    args = parser.parse_args()

    setup_django(args.database)
    headers, rows = read_rows(args.rows)
    mapping = import_mapping(headers, rows[:50])
    results = [plan_all(mapping, rows) for _ in range(args.repeat)]
    digests = {digest for _, digest in results}
    best = min(seconds for seconds, _ in results)
    print(f"rows: {len(rows):,}  repeats: {args.repeat}  python: {sys.version.split()[0]}")
    print(
        "mapping: "
        + ", ".join(f"{h} -> {m.get('key', 'skip')}" for h, m in zip(headers, mapping, strict=True))
    )
    print("runs (CPU s): " + ", ".join(f"{seconds:.3f}" for seconds, _ in results))
    print(f"best: {best * 1e6 / len(rows):.2f} µs/row  digest: {', '.join(sorted(digests))}")
    if args.top:
        print(profile(mapping, rows, args.top))


if __name__ == "__main__":
    main()

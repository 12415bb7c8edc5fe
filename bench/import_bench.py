"""Bulk import speed and memory: our import against the floor and a peer library.

    # SQLite (a fresh database file under var/bench/)
    .venv/bin/python bench/import_bench.py --database sqlite
    # PostgreSQL (drops and re-creates the database ch_bench_import)
    .venv/bin/python bench/import_bench.py --database postgres

Generates (once) the 500,000-row, ~51 MB CSV and a copy with every row's values changed
(``bench/import_generate.py``), then on a fresh database:

1. the peer: django-import-export in bulk mode imports a 50,000-row slice into ``Contact``
   (its rows are deleted afterwards);
2. the floor: ``csv.reader`` plus raw ``executemany`` of the same values into a table with the
   same columns and a unique phone index, no validation;
3. ``manage.py import_contacts`` three times, each in its own process: the first import (all
   new), a re-import of the same file (all unchanged), and a re-import of the changed file
   (all updated). Wall time of the whole command (start-up included) and the peak resident
   memory of that process (``wait4``'s ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# BENCH_IMPORT_DIR and BENCH_IMPORT_DB put the files and the databases elsewhere, to run
# beside another benchmark.
BENCH = Path(os.environ.get("BENCH_IMPORT_DIR") or ROOT / "var" / "bench")
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = os.environ.get("BENCH_IMPORT_DB", "ch_bench_import")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
MAPS = [
    "--map", "Signed Up=Signed Up:datetime",
    "--map", "Last Order=Last Order:datetime",
    "--map", "Orders=Orders:number",
    "--map", "Interests=Interests:list",
]  # fmt: skip


def files(rows: int) -> tuple[Path, Path, Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    from import_generate import generate

    first, changed = BENCH / f"contacts-{rows}.csv", BENCH / f"contacts-{rows}-changed.csv"
    if not first.exists():
        generate(first, rows)
    if not changed.exists():
        generate(changed, rows, variant=1)
    peer = BENCH / f"contacts-{rows}-first-50000.csv"
    if not peer.exists():
        with first.open() as src, peer.open("w") as out:
            for n, line in enumerate(src):
                if n > 50_000:
                    break
                out.write(line)
    return first, changed, peer


def environment(database: str) -> dict[str, str]:
    env = {**os.environ, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    if database == "sqlite":
        var = BENCH / "sqlite"
        if var.exists():
            for path in var.glob("contacthub.sqlite3*"):
                path.unlink()
        var.mkdir(parents=True, exist_ok=True)
        env |= {"CONTACTHUB_VAR_DIR": str(var), "MEDIA_ROOT": str(var / "media")}
        env.pop("DATABASE_URL", None)
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
        env |= {"DATABASE_URL": PG_URL, "MEDIA_ROOT": str(BENCH / "pg-media")}
    return env


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run a command; wall seconds, CPU seconds, peak RSS in MB, and its output."""
    started = time.monotonic()
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, output


def sql_connection(database: str, env: dict[str, str]):
    if database == "sqlite":
        conn = sqlite3.connect(Path(env["CONTACTHUB_VAR_DIR"]) / "contacthub.sqlite3")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, "?"
    import psycopg

    return psycopg.connect(PG_URL), "%s"


def floor(path: Path, database: str, env: dict[str, str]) -> tuple[float, float]:
    """csv.reader + executemany of the same values; no validation, no activity, no tags."""
    conn, mark = sql_connection(database, env)
    conn.execute("DROP TABLE IF EXISTS bench_floor")
    conn.execute(
        "CREATE TABLE bench_floor (id integer PRIMARY KEY, country_code varchar(4), "
        "phone_number varchar(20), phone varchar(20) UNIQUE, name varchar(255), "
        "email varchar(254), whatsapp_opted boolean, traits text, created_at varchar(40), "
        "updated_at varchar(40), version integer)"
        if database == "sqlite"
        else "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, country_code varchar(4), "
        "phone_number varchar(20), phone varchar(20) UNIQUE, name varchar(255), "
        "email varchar(254), whatsapp_opted boolean, traits jsonb, created_at timestamptz, "
        "updated_at timestamptz, version integer)"
    )
    conn.commit()
    sql = (
        "INSERT INTO bench_floor (country_code, phone_number, phone, name, email, "
        "whatsapp_opted, traits, created_at, updated_at, version) "
        f"VALUES ({', '.join([mark] * 10)})"
    )
    now = "2026-01-01T00:00:00+00:00"
    started, cpu_started = time.monotonic(), time.process_time()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        batch = []
        for name, phone, code, email, city, opted, signed, last, orders, interests in reader:
            traits = json.dumps(
                {
                    "city": city,
                    "signed_up": signed,
                    "last_order": last,
                    "orders": orders,
                    "interests": interests,
                }
            )
            batch.append(
                (code, phone, f"+{code}{phone}", name, email, opted == "TRUE", traits, now, now, 1)
            )
            if len(batch) == 1000:
                conn.cursor().executemany(sql, batch)
                conn.commit()
                batch = []
        if batch:
            conn.cursor().executemany(sql, batch)
            conn.commit()
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    conn.close()
    return elapsed, cpu


PEER = """
import csv, json, sys, time
import django
django.setup()
import tablib
from import_export import fields, resources
from django.db import connection
from contacts.models import Contact

class ContactResource(resources.ModelResource):
    class Meta:
        model = Contact
        fields = ("name", "phone", "country_code", "phone_number", "email", "whatsapp_opted",
                  "traits")
        import_id_fields = ("phone",)
        use_bulk = True
        batch_size = 1000
        skip_diff = True

rows = []
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    next(reader)
    for name, phone, code, email, city, opted, signed, last, orders, interests in reader:
        traits = json.dumps({"city": city, "signed_up": signed, "last_order": last,
                             "orders": orders, "interests": interests})
        rows.append((name, f"+{code}{phone}", code, phone, email, opted == "TRUE", traits))
data = tablib.Dataset(*rows, headers=["name", "phone", "country_code", "phone_number",
                                      "email", "whatsapp_opted", "traits"])
started = time.monotonic()
result = ContactResource().import_data(data, dry_run=False, raise_errors=True)
elapsed = time.monotonic() - started
assert Contact.objects.count() == len(rows), Contact.objects.count()
with connection.cursor() as cursor:
    cursor.execute("DELETE FROM contacts_contact")
print(f"PEER {len(rows)} {elapsed:.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Bulk import benchmark")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    first, changed, peer_file = files(args.rows)
    env = environment(args.database)
    python = str(ROOT / ".venv" / "bin" / "python")
    run([python, "manage.py", "migrate", "--noinput", "-v0"], env)
    print(f"{args.database}, {args.rows:,} rows, {first.stat().st_size / 1e6:.1f} MB file")
    print(f"load average at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("CPU is the importing process's own (user + system); on PostgreSQL the server's")
    print("work is not in it. x floor compares wall times.\n")
    print("| run | wall s | CPU s | rows/s (wall) | x floor | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)
    if not args.skip_peer:
        peer_env = env | {"DJANGO_SETTINGS_MODULE": "contacthub.settings"}
        _, cpu, rss, out = run([python, "-c", PEER, str(peer_file)], peer_env)
        rows, seconds = re.search(r"PEER (\d+) ([\d.]+)", out).groups()
        rate = int(rows) / float(seconds)
        print(f"| peer: django-import-export bulk, {int(rows):,} rows | {float(seconds):.1f} "
              f"| {cpu:.1f} (whole process) | {rate:,.0f} |  | {rss} |", flush=True)  # fmt: skip
    floor_seconds, floor_cpu = floor(first, args.database, env)
    print(f"| floor: csv.reader + executemany | {floor_seconds:.1f} | {floor_cpu:.1f} "
          f"| {args.rows / floor_seconds:,.0f} | 1.0 |  |", flush=True)  # fmt: skip
    command = [python, "manage.py", "import_contacts", "--tag", "Bench", *MAPS]
    for label, path in (
        ("import, all new", first),
        ("re-import, all unchanged", first),
        ("re-import, every row changed", changed),
    ):
        seconds, cpu, rss, out = run([*command, str(path)], env)
        print(f"| {label} | {seconds:.1f} | {cpu:.1f} | {args.rows / seconds:,.0f} "
              f"| {seconds / floor_seconds:.1f} | {rss} |", flush=True)  # fmt: skip
        print(out.strip().splitlines()[-1], file=sys.stderr, flush=True)
    print(f"\nload average at end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

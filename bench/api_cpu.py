"""CPU per request of the public API, in-process through the WSGI handler (no server, no client).

    .venv/bin/python bench/api_cpu.py --database ch_bench_api_cpu
    /work/main/.venv/bin/python bench/api_cpu.py --root <other checkout> --database other_db \\
        --profile var/bench/other
    .venv/bin/python bench/api_cpu.py --compare var/bench/other var/bench/this

Loads the code of the checkout ``--root`` (default: the one this script is in) with
``bench/api_settings.py``'s settings (as ``bench/api_load.py``'s gunicorn does: production
settings, a rate limit that counts every request and refuses none), on a PostgreSQL database
``--database`` on 127.0.0.1 that it drops, creates and migrates with that code. It creates a
key (``manage.py create_api_key``), then drives ``contacthub.wsgi``'s handler with WSGI
environs as gunicorn would build them, for each scenario: ``--warmup`` requests, then
``--requests`` timed with ``time.process_time`` (CPU of this process: Python and the
driver, not PostgreSQL's server; other load on the machine moves it little):

- ``ping``: ``GET /v1/public/ping/`` with the key;
- ``existing``: ``POST /v1/public/track/users/`` on one existing contact, one trait changed
  each time (a match, a locked read, an update, an activity entry);
- ``new``: the same endpoint with a new phone each time.

Every answer must be a 200. ``--profile DIR`` then runs each scenario once more under
cProfile and writes ``DIR/<scenario>.prof``. ``--compare A B`` prints, for two such
directories (A: before, B: after), the functions whose cumulative time per request differs
most, in ms per request, with their calls per request; files are named relative to their
checkout or to site-packages, so the same function matches across checkouts.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import itertools
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# This script's folder is first on sys.path (run as a script): the counting helpers of
# bench/list_pages.py, this checkout's even when --root loads another one's code.
from instructions import FLAG, Counting, rerun_under_callgrind

HERE = Path(__file__).resolve().parents[1]
SERVER = "127.0.0.1:5432"
SCENARIOS = ("ping", "existing", "new")
_TOP_FOLDERS = {"api", "accounts", "bench", "bulkupload", "contacthub", "contacts", "jobs"}
_TOP_FOLDERS |= {"overview"}


def setup(
    root: Path, database: str, reset: bool, settings: str = "api_settings", server: str = SERVER
) -> str:
    """Django set up on ``root``'s code and a fresh ``database``; the new key's secret."""
    if reset:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@{server}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{database}"')
            c.execute(f'CREATE DATABASE "{database}"')
    os.environ.update(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=f"postgres://postgres@{server}/{database}",
        CONTACTHUB_VAR_DIR=tempfile.mkdtemp(prefix="api-cpu-"),
        ALLOWED_HOSTS="127.0.0.1",
        # One connection for the whole run, so that its server process's CPU can be read.
        CONN_MAX_AGE="3600",
    )
    # The checkout first, its bench/ (api_settings) after: bench/overview.py is not the app.
    sys.path[:0] = [str(root), str(root / "bench")]
    import django

    django.setup()
    from django.core.management import call_command

    if reset:
        call_command("migrate", verbosity=0, interactive=False)
    out = io.StringIO()
    call_command("create_api_key", "Benchmark", stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def _first_free_phone() -> int:
    """9,000,000,000, or past the highest of those numbers already stored."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(phone) FROM contacts_contact WHERE phone LIKE '+919%%'")
        (highest,) = cursor.fetchone()
    return 9_000_000_000 if highest is None else int(highest[3:]) + 1


class Driver:
    """Requests through the WSGI handler, as gunicorn's worker calls it."""

    def __init__(self, secret: str) -> None:
        from contacthub.wsgi import application

        self.application = application
        self.secret = secret
        # After the phones a kept database (--keep) already has: "new" must create contacts.
        self.phones = itertools.count(_first_free_phone())
        self.visits = itertools.count(1)
        self.existing = f"+91{next(self.phones)}"
        self.headers: list[tuple[str, str]] = []

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8765",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "50000",
            "HTTP_HOST": "127.0.0.1:8765",
            "HTTP_AUTHORIZATION": f"Basic {self.secret}",
            "HTTP_ACCEPT_ENCODING": "identity",
            "HTTP_USER_AGENT": "Python-urllib/3",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if body is not None:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(data))
        status: list[str] = []

        def start_response(line: str, headers: list, exc_info: Any = None) -> None:
            status.append(line)
            self.headers = headers

        result = self.application(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()  # request_finished, as the server does
        if not status[0].startswith("200"):
            raise SystemExit(f"{method} {path}: {status[0]} {content[:300]!r}")
        return content

    def ping(self) -> bytes:
        return self.request("GET", "/v1/public/ping/")

    def existing_contact(self) -> bytes:
        body = {"phoneNumber": self.existing, "traits": {"Visits": next(self.visits)}}
        return self.request("POST", "/v1/public/track/users/", body | {"tags": ["load test"]})

    def new_contact(self) -> bytes:
        body = {
            "phoneNumber": f"+91{next(self.phones)}",
            "traits": {"name": "Load Test", "email": "load@example.com", "Plan": "basic"},
            "tags": ["load test"],
        }
        content = self.request("POST", "/v1/public/track/users/", body)
        if b'"created": true' not in content:
            raise SystemExit(f"new: no contact created: {content[:300]!r}")
        return content


def _server_cpu() -> float:
    """CPU seconds so far of the PostgreSQL process serving this run's connection (it runs on
    this machine: its /proc entry), or NaN where that cannot be read."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _print_sql(name: str, call: Any, driver: Driver) -> None:
    """The statements of one request."""
    from django.db import connection

    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        content = call()
    print(f"{name}: {len(statements)} statements")
    for sql in statements:
        print(f"    {sql[:160]}")
    print(f"{name}: answer headers {driver.headers}")
    print(f"{name}: answer {content[:200]!r}")


_STATEMENTS = """
SELECT query, calls, total_plan_time, total_exec_time, shared_blks_hit + shared_blks_read,
       shared_blks_dirtied, wal_records, wal_fpi, wal_bytes
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%%pg_stat_statements%%' AND query NOT LIKE '%%pg_backend_pid%%'
ORDER BY total_plan_time + total_exec_time DESC
"""


def _statements_reset() -> None:
    """Empty pg_stat_statements (the server must preload it: ``--server`` names such a
    server, not the shared one)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cursor.execute("SELECT pg_stat_statements_reset()")


def _statements_print(name: str, requests: int) -> None:
    """Per request, each statement's planning and execution time (the server's own timing,
    mean per call), buffers touched and dirtied, and WAL written, from pg_stat_statements."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_STATEMENTS)
        rows = cursor.fetchall()
    print(f"\n{name}: pg_stat_statements over {requests} requests (per request; times per call)")
    print("| statement | calls/req | plan ms | exec ms | buffers | dirtied | WAL rec | FPI", end="")
    print(" | WAL B |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    totals = [0.0] * 7
    for query, calls, plan, execute, buffers, dirtied, records, fpi, wal in rows:
        per = [calls / requests, plan / requests, execute / requests]
        per += [buffers / requests, dirtied / requests, records / requests, fpi / requests]
        totals = [t + v for t, v in zip(totals, [*per[1:], float(wal) / requests], strict=True)]
        text = " ".join(query.split())[:70].replace("|", "/")
        print(
            f"| `{text}` | {per[0]:.2f} | {plan / calls:.3f} | {execute / calls:.3f} | "
            f"{per[3]:.1f} | {per[4]:.1f} | {per[5]:.1f} | {per[6]:.2f} | "
            f"{float(wal) / calls:.0f} |"
        )
    print(
        f"| total per request | | {totals[0]:.3f} | {totals[1]:.3f} | {totals[2]:.1f} | "
        f"{totals[3]:.1f} | {totals[4]:.1f} | {totals[5]:.2f} | {totals[6]:.0f} |",
        flush=True,
    )


def callgrind(args: argparse.Namespace) -> None:
    """This script again under ``valgrind --tool=callgrind`` (``bench/instructions.py``),
    instructions counted only while the scenarios' requests run; prints the instructions per
    request. Deterministic: other load on the machine does not move it."""
    argv = [a for a in sys.argv[1:] if a != "--callgrind"] + ["--batches", "1"]
    counts = rerun_under_callgrind(__file__, argv)
    print("| scenario | requests | instructions/request (callgrind) |")
    print("|---|---:|---:|")
    for name, instructions in zip(args.scenario, counts, strict=False):
        print(f"| {name} | {args.requests} | {instructions / args.requests:,.0f} |", flush=True)


def run(args: argparse.Namespace) -> None:
    counting = Counting(args.counting)
    root = Path(args.root).resolve()
    secret = setup(root, args.database, not args.keep, args.settings, args.server)
    driver = Driver(secret)
    # The existing contact as bench/api_load.py's "new" scenario makes them (name, email, tag).
    traits = {"name": "Load Test", "email": "load@example.com", "Plan": "basic", "Visits": 0}
    body = {"phoneNumber": driver.existing, "traits": traits, "tags": ["load test"]}
    driver.request("POST", "/v1/public/track/users/", body)
    # What setting up left (a migration's objects) is moved out of the garbage collector's
    # sight, or its passes would cost more in a run that migrated than in one that did not.
    gc.collect()
    gc.freeze()
    calls = {"ping": driver.ping, "existing": driver.existing_contact, "new": driver.new_contact}
    print(f"code: {Path(args.root).resolve()}  database: {args.database}")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(
        "| scenario | requests | CPU ms/request | median batch | fastest batch "
        "| server CPU ms/request | wall ms/request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.scenario:
        call = calls[name]
        for _ in range(args.warmup):
            call()
        if args.sql:
            _print_sql(name, call, driver)
        if args.statements:
            _statements_reset()
        per_batch = max(1, args.requests // args.batches)
        cpus: list[float] = []
        server, wall = _server_cpu(), time.perf_counter()
        with counting:
            for _ in range(args.batches):
                cpu = time.process_time()
                for _ in range(per_batch):
                    call()
                cpus.append((time.process_time() - cpu) / per_batch * 1000)
        n = per_batch * args.batches
        wall = (time.perf_counter() - wall) / n * 1000
        server = (_server_cpu() - server) / n * 1000
        cpu = sum(cpus) / len(cpus)
        print(
            f"| {name} | {n} | {cpu:.3f} | {statistics.median(cpus):.3f} | {min(cpus):.3f} | "
            f"{server:.3f} | {wall:.3f} |",
            flush=True,
        )
        if args.statements:
            _statements_print(name, n)
    if args.profile:
        folder = Path(args.profile)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.scenario:
            profile = cProfile.Profile()
            profile.runcall(lambda call=calls[name]: [call() for _ in range(args.requests)])
            stats = pstats.Stats(profile)
            stats.dump_stats(folder / f"{name}.prof")
            (folder / f"{name}.json").write_text(json.dumps({"requests": args.requests}))
            print(f"\nprofile of {name}: {folder / name}.prof; top {args.top} by cumulative")
            stats.sort_stats("cumulative").print_stats(args.top)


def _short(filename: str) -> str:
    """A file named the same in both checkouts: relative to site-packages, the standard
    library or the checkout (from its first app or project folder)."""
    for marker in ("site-packages/", "/lib/python3."):
        if marker in filename:
            return filename.split(marker, 1)[1]
    parts = Path(filename).parts
    for at, part in enumerate(parts):
        if part in _TOP_FOLDERS:
            return "/".join(parts[at:])
    return filename


_Table = dict[tuple[str, str], tuple[float, float, int]]


def _load(folder: Path, scenario: str) -> tuple[_Table, int]:
    requests = json.loads((folder / f"{scenario}.json").read_text())["requests"]
    stats = pstats.Stats(str(folder / f"{scenario}.prof"))
    table: _Table = {}
    for (filename, _line, function), (_cc, calls, tottime, cumtime, _) in stats.stats.items():
        key = (_short(filename), function)
        own, cumulative, count = table.get(key, (0.0, 0.0, 0))
        # Several functions of one name in a file (rare) add up; recursion is counted once.
        table[key] = (own + tottime, max(cumulative, cumtime), count + calls)
    return table, requests


def compare(before: Path, after: Path, scenarios: list[str], top: int) -> None:
    for scenario in scenarios:
        if not (before / f"{scenario}.prof").exists() or not (after / f"{scenario}.prof").exists():
            continue
        a, n_a = _load(before, scenario)
        b, n_b = _load(after, scenario)
        total_a = sum(own for own, _, _ in a.values()) / n_a * 1000
        total_b = sum(own for own, _, _ in b.values()) / n_b * 1000
        calls_a = sum(count for _, _, count in a.values()) / n_a
        calls_b = sum(count for _, _, count in b.values()) / n_b
        print(f"\n{scenario}: profiled time {total_a:.3f} -> {total_b:.3f} ms/request,", end="")
        print(f" Python function calls {calls_a:.0f} -> {calls_b:.0f} per request")
        print("| function | before cum ms | after cum ms | before own ms | after own ms |", end="")
        print(" calls/request before -> after |")
        print("|---|---:|---:|---:|---:|---|")
        rows = []
        for key in a.keys() | b.keys():
            own_a, cum_a, calls_a = a.get(key, (0.0, 0.0, 0))
            own_b, cum_b, calls_b = b.get(key, (0.0, 0.0, 0))
            cum_a, cum_b = cum_a / n_a * 1000, cum_b / n_b * 1000
            own_a, own_b = own_a / n_a * 1000, own_b / n_b * 1000
            rows.append(
                (cum_b - cum_a, key, cum_a, cum_b, own_a, own_b, calls_a / n_a, calls_b / n_b)
            )
        rows.sort(key=lambda row: -abs(row[0]))
        for _, (filename, function), cum_a, cum_b, own_a, own_b, c_a, c_b in rows[:top]:
            print(
                f"| `{filename}:{function}` | {cum_a:.3f} | {cum_b:.3f} | {own_a:.3f} | "
                f"{own_b:.3f} | {c_a:g} -> {c_b:g} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(HERE), help="the checkout whose code is measured")
    parser.add_argument("--database", default="ch_bench_api_cpu", help="PostgreSQL, recreated")
    parser.add_argument("--keep", action="store_true", help="reuse the database as it is")
    parser.add_argument("--settings", default="api_settings", help="another settings module")
    parser.add_argument("--server", default=SERVER, help="PostgreSQL's host:port")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="print each statement's cost from pg_stat_statements (a server that preloads it)",
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--batches", type=int, default=20, help="timed in this many parts")
    parser.add_argument("--scenario", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--profile", metavar="DIR", help="write DIR/<scenario>.prof")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true", help="print one request's statements")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--callgrind", action="store_true", help="count instructions instead")
    parser.add_argument(FLAG, help=argparse.SUPPRESS)  # set by --callgrind
    args = parser.parse_args()
    if args.callgrind:
        callgrind(args)
        return
    if args.compare:
        compare(Path(args.compare[0]), Path(args.compare[1]), args.scenario, args.top)
        return
    run(args)


if __name__ == "__main__":
    main()

"""Public API under load: gunicorn with 2 workers on loopback, a small threaded client.

Measures requests per second and p50/p99 latency for

- ``ping``: ``GET /v1/public/ping/``, the cheapest authenticated request (the floor: key
  check and rate-limit count, no contact work);
- ``new``: ``POST /v1/public/track/users/`` with a distinct new phone each time (create, tag,
  activity);
- ``existing``: the same endpoint on contacts that exist, changing one trait each time
  (match, lock, merge, activity);
- ``batch``: ``POST /v1/public/track/users/batch/`` from ``--batch-clients`` (8) clients, each
  sending batches of 1,000 users drawn from one pool of 3,000 phones, so that batches overlap;
  afterwards it checks: no 5xx, no phone on two contacts, every acknowledged user in the
  database with the contact id it was answered;
- ``1,000 users``: from one client, 1,000 single calls against one batch of 1,000 (new
  contacts each), and the ratio of their times (target: the batch at most 1/20).

Usage (from the project root)::

    .venv/bin/python bench/api_load.py --db sqlite
    .venv/bin/python bench/api_load.py --db postgres   # database ch_bench_api on 127.0.0.1
    .venv/bin/python bench/api_load.py --db postgres --root <another checkout> --only single

``--root`` serves another checkout's code (its ``bench/api_settings.py`` too) with this
client, so that two versions are measured by the same script.

Each run starts from an empty database, creates a key with ``manage.py create_api_key``,
starts gunicorn, runs each scenario for ``--seconds`` with ``--clients`` concurrent
connections, prints a Markdown table, and stops gunicorn.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the code served; --root changes it
VAR = ROOT / "var" / "bench-api"  # this checkout's, whichever code is served
PYTHON = sys.executable
# Override with BENCH_API_DB and BENCH_API_PORT to run beside another benchmark.
PG_DB = os.environ.get("BENCH_API_DB", "ch_bench_api")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_API_PORT", "8765"))


def environment(db: str, sqlite_persistent: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "api_settings",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}",  # the project first: bench/overview.py is no app
        "CONTACTHUB_VAR_DIR": str(VAR),
        "ALLOWED_HOSTS": HOST,
    }
    if sqlite_persistent:
        env["BENCH_SQLITE_PERSISTENT"] = "1"
    if db == "postgres":
        env["DATABASE_URL"] = PG_URL
    else:
        env.pop("DATABASE_URL", None)
    return env


def reset_database(db: str, env: dict[str, str]) -> None:
    if db == "postgres":
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
            c.execute(f'CREATE DATABASE "{PG_DB}"')
    else:
        shutil.rmtree(VAR, ignore_errors=True)
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def create_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", "create_api_key", "Benchmark"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def start_gunicorn(env: dict[str, str], workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "contacthub.wsgi",
        "--bind",
        f"{HOST}:{PORT}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection(HOST, PORT, timeout=1)
            connection.request("GET", "/v1/public/openapi.json")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


class Scenario:
    def __init__(self, name: str, key: str) -> None:
        self.name = name
        self.headers = {"Authorization": f"Basic {key}", "Content-Type": "application/json"}

    def request(self) -> tuple[str, str, bytes | None]:
        raise NotImplementedError

    def answered(self, status: int, body: bytes) -> None:
        """Called with every answer (from the client threads)."""


class Ping(Scenario):
    def request(self):
        return "GET", "/v1/public/ping/", None


_phones = itertools.count(9_000_000_000)
_phones_lock = threading.Lock()
created_phones: list[str] = []


class NewContacts(Scenario):
    def request(self):
        with _phones_lock:
            phone = f"+91{next(_phones)}"
        created_phones.append(phone)
        body = {
            "phoneNumber": phone,
            "traits": {"name": "Load Test", "email": "load@example.com", "Plan": "basic"},
            "tags": ["load test"],
        }
        return "POST", "/v1/public/track/users/", json.dumps(body).encode()


_visits = itertools.count(1)


class ExistingContacts(Scenario):
    def request(self):
        phone = random.choice(created_phones)
        body = {"phoneNumber": phone, "traits": {"Visits": next(_visits)}, "tags": ["load test"]}
        return "POST", "/v1/public/track/users/", json.dumps(body).encode()


BATCH_PATH = "/v1/public/track/users/batch/"
BATCH_SIZE, BATCH_POOL = 1000, 3000


class Batches(Scenario):
    """Batches of 1,000 users from one pool of phones: concurrent batches share contacts."""

    def __init__(self, name: str, key: str) -> None:
        super().__init__(name, key)
        self.acknowledged: dict[str, set[int]] = {}
        self.server_errors = 0
        self.lock = threading.Lock()

    def request(self):
        users = [
            {"phoneNumber": f"+9180{n:08d}", "traits": {"Batch visits": next(_visits)}}
            | ({"tags": ["batch"]} if n % 2 else {})
            for n in random.sample(range(BATCH_POOL), BATCH_SIZE)
        ]
        return "POST", BATCH_PATH, json.dumps({"users": users}).encode()

    def answered(self, status: int, body: bytes) -> None:
        with self.lock:
            if status >= 500 or status == 0:
                self.server_errors += 1
            if status != 200:
                return
            for result in json.loads(body)["data"]["results"]:
                if result["status"] != "refused":
                    data = result["data"]
                    self.acknowledged.setdefault(data["phoneNumber"], set()).add(data["id"])


def check_batches(scenario: Batches, env: dict[str, str]) -> str:
    """No 5xx, no phone on two contacts, every acknowledged user stored under its id."""
    script = (
        "import json; from contacts.models import Contact; "
        "print(json.dumps(list(Contact.objects.filter(phone__startswith='+9180')"
        ".values_list('phone', 'id'))))"
    )
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    stored = json.loads(result.stdout.strip().splitlines()[-1])
    by_phone: dict[str, list[int]] = {}
    for phone, contact_id in stored:
        by_phone.setdefault(phone, []).append(contact_id)
    duplicates = sum(1 for ids in by_phone.values() if len(ids) > 1)
    missing = sum(
        1 for phone, ids in scenario.acknowledged.items() if by_phone.get(phone) != sorted(ids)
    )
    return (
        f"{scenario.server_errors} 5xx; {duplicates} phones on two contacts; "
        f"{len(scenario.acknowledged)} phones acknowledged, {missing} of them not stored as "
        "answered"
    )


def thousand_users(key: str) -> str:
    """1,000 single calls against one batch of 1,000, one client, new contacts each."""
    headers = Scenario("", key).headers
    connection = http.client.HTTPConnection(HOST, PORT, timeout=300)

    def post(path: str, body: dict) -> int:
        connection.request("POST", path, body=json.dumps(body).encode(), headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status

    def user(n: int) -> dict:
        return {"phoneNumber": f"+9170{n:08d}", "traits": {"name": "One", "Plan": "basic"}}

    started = time.perf_counter()
    statuses = [post("/v1/public/track/users/", user(n)) for n in range(BATCH_SIZE)]
    singles = time.perf_counter() - started
    started = time.perf_counter()
    batch_status = post(BATCH_PATH, {"users": [user(n) for n in range(10**6, 10**6 + BATCH_SIZE)]})
    batch = time.perf_counter() - started
    bad = sum(1 for status in statuses if status != 200) + (batch_status != 200)
    return (
        f"1,000 single calls {singles:.2f} s, one batch of 1,000 {batch:.2f} s: the batch takes "
        f"1/{singles / batch:.0f} of the time ({bad} non-200 answers)"
    )


def run(scenario: Scenario, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        mine: list[float] = []
        bad: list[int] = []
        connection = http.client.HTTPConnection(HOST, PORT, timeout=120)
        while time.perf_counter() < stop_at:
            method, path, body = scenario.request()
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=scenario.headers)
                response = connection.getresponse()
                answer = response.read()
                status = response.status
                scenario.answered(status, answer)
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                status = 0
            mine.append(time.perf_counter() - started)
            if status != 200:
                bad.append(status)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": cuts[49] * 1000,
        "p99": cuts[98] * 1000,
        "errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--batch-clients", type=int, default=8)
    parser.add_argument(
        "--only", choices=["all", "single", "batch"], default="all", help="which scenarios"
    )
    parser.add_argument(
        "--sqlite-persistent",
        action="store_true",
        help="keep SQLite connections open between requests (the settings close them)",
    )
    parser.add_argument("--root", help="serve this checkout's code (default: this one)")
    parser.add_argument(
        "--start-at",
        type=float,
        help="a Unix time: wait for it before the first scenario (set up first), so that two "
        "runs started together (e.g. two checkouts, two ports) measure side by side",
    )
    args = parser.parse_args()
    if args.root:
        global ROOT
        ROOT = Path(args.root).resolve()

    env = environment(args.db, args.sqlite_persistent)
    load_before = os.getloadavg()[0]
    reset_database(args.db, env)
    key = create_key(env)
    server = start_gunicorn(env, args.workers, args.threads)
    try:
        run(Ping("warm-up", key), 2, 2)
        if args.start_at:
            time.sleep(max(0.0, args.start_at - time.time()))
        rows = []
        singles = (
            Ping("ping (floor)", key),
            NewContacts("track user: new contacts", key),
            ExistingContacts("track user: existing contacts", key),
        )
        for scenario in singles if args.only != "batch" else singles[:1]:
            result = run(scenario, args.clients, args.seconds)
            rows.append((scenario.name, result))
        notes = []
        if args.only != "single":
            batches = Batches(f"batch of {BATCH_SIZE} ({args.batch_clients} clients)", key)
            rows.append((batches.name, run(batches, args.batch_clients, args.seconds)))
            notes.append(check_batches(batches, env))
            notes.append(thousand_users(key))
    finally:
        server.terminate()
        server.wait(timeout=30)

    floor = rows[0][1]["rps"]
    persistent = " (persistent connections)" if args.sqlite_persistent else ""
    print(f"\ncode: {ROOT}")
    print(
        f"{args.db}{persistent}, gunicorn {args.workers} workers x {args.threads} thread(s), "
        f"{args.clients} clients, {args.seconds:.0f} s per scenario; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} CPUs)\n"
    )
    print("| scenario | requests | req/s | % of floor | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {r['requests']} | {r['rps']:.0f} | {100 * r['rps'] / floor:.0f}% "
            f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |"
        )
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()

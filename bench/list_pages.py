"""Contact list latency at scale: load generated contacts, then time list pages.

    # SQLite (its own file, not the app's database)
    DATABASE_URL=sqlite:////work/main/var/bench-list.sqlite3 \
        .venv/bin/python bench/list_pages.py --contacts 500000 --repeat 30
    # PostgreSQL
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ch_bench_list \
        .venv/bin/python bench/list_pages.py --contacts 500000 --repeat 30

Loading bulk-inserts generated rows straight into the tables (contacts with custom traits of
every type, tags, activity rows for one "upload"); it is bench data, so it skips the services
on purpose: 500,000 ``contact_upsert`` calls would take far longer and measure something else.
An existing database with the right number of contacts is reused.

Each scenario calls the real list view through Django's test ``Client`` (middleware, session,
permissions, template rendering), ``--repeat`` times after a warm-up, and reports the median
and p95 wall time, the number of SQL queries, the "floor": the single raw SQL query that
fetches the same page of rows, timed the same way, and "cpu": the median CPU time of this
process per page (Python and SQLite's own work; steadier than wall time on a busy machine).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The test settings: the same app, with plain static file storage (no manifest to build).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacthub.test_settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402

from bench.instructions import FLAG, Counting, rerun_under_callgrind  # noqa: E402
from contacts.fields import field_registry  # noqa: E402
from contacts.models import Activity, Attribute, Contact, ContactTag, Tag  # noqa: E402
from contacts.selectors import contact_list_for, parse_list_query  # noqa: E402

CITIES = [
    "Pune", "Mumbai", "Delhi", "Chennai", "Kolkata", "Bengaluru", "Hyderabad", "Jaipur",
    "Surat", "Lucknow", "Kanpur", "Nagpur", "Indore", "Thane", "Bhopal", "Patna", "Vadodara",
    "Ludhiana", "Agra", "Nashik",
]  # fmt: skip
INTERESTS = ["cricket", "music", "films", "travel", "food", "tech", "fashion", "books"]
TAGS = [f"Tag {i:02d}" for i in range(18)] + ["VIP", "Lead"]
FIRST = ["Asha", "Bala", "Chitra", "Dev", "Esha", "Farhan", "Gita", "Hari", "Isha", "Jai"]
LAST = ["Rao", "Shah", "Iyer", "Khan", "Das", "Nair", "Gupta", "Singh", "Patel", "Menon"]
BATCH = 10_000
UPLOAD_JOB_ID = 424242


def load(count: int) -> None:
    call_command("migrate", verbosity=0)
    have = Contact.objects.count()
    if have == count:
        print(f"reusing {have:,} contacts")
        return
    started = time.perf_counter()
    with transaction.atomic():
        Activity.objects.all().delete()
        ContactTag.objects.all().delete()
        Contact.objects.all().delete()
        for key, label, type_ in (
            ("city", "City", "text"),
            ("score", "Score", "number"),
            ("vip", "VIP", "boolean"),
            ("renewal", "Renewal", "datetime"),
            ("interests", "Interests", "list"),
        ):
            Attribute.objects.get_or_create(key=key, defaults={"label": label, "type": type_})
        tags = [
            Tag.objects.get_or_create(name_key=n.casefold(), defaults={"name": n})[0] for n in TAGS
        ]
    rng = random.Random(42)
    now = datetime.now(UTC)
    for start in range(0, count, BATCH):
        rows = []
        for i in range(start, min(count, start + BATCH)):
            created = now - timedelta(seconds=rng.randrange(0, 730 * 86400))
            traits = {"city": rng.choice(CITIES), "score": rng.randrange(0, 10_000)}
            if rng.random() < 0.5:
                traits["vip"] = rng.random() < 0.2
            if rng.random() < 0.7:
                day = now - timedelta(days=rng.randrange(-365, 730))
                traits["renewal"] = day.strftime("%Y-%m-%d")
            if rng.random() < 0.6:
                traits["interests"] = rng.sample(INTERESTS, rng.randrange(1, 4))
            national = f"{9_000_000_000 + i}"
            rows.append(
                Contact(
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}",
                    country_code="91",
                    phone_number=national,
                    phone=f"+91{national}",
                    email=f"person{i}@example.com" if rng.random() < 0.8 else "",
                    user_id=f"crm-{i}" if rng.random() < 0.5 else None,
                    whatsapp_opted=rng.random() < 0.6,
                    traits=traits,
                    created_at=created,
                    updated_at=created,
                )
            )
        with transaction.atomic():
            Contact.objects.bulk_create(rows, batch_size=2000)
            ids = list(
                Contact.objects.filter(phone__in=[r.phone for r in rows]).values_list(
                    "pk", flat=True
                )
            )
            links = []
            for pk in ids:
                for tag in rng.sample(tags, rng.randrange(0, 4)):
                    links.append(ContactTag(contact_id=pk, tag=tag, created_at=now))
            ContactTag.objects.bulk_create(links, batch_size=5000)
            Activity.objects.bulk_create(
                [
                    Activity(
                        contact_id=pk, kind="created", source="upload", upload_job_id=UPLOAD_JOB_ID
                    )
                    for pk in ids[:500]
                ]
                if start == 0
                else []
            )
        print(f"  {min(count, start + BATCH):,} contacts", end="\r", flush=True)
    with connection.cursor() as cursor:
        # What autovacuum does on a live PostgreSQL: statistics, and the visibility map
        # without which an index-only scan still visits every row's page.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"loaded {count:,} contacts in {time.perf_counter() - started:.0f} s")


SCENARIOS = [
    ("first page, default columns, newest first", {}),
    (
        "text trait filter + sort by number trait, with count",
        {"f": "city:eq:Pune", "sort": "-score"},
    ),
    ("search by phone digits", {"q": "98765"}),
    ("tag filter (has any of VIP)", {"f": "tags:any:VIP"}),
    ("upload filter (?upload=<job id>)", {"upload": str(UPLOAD_JOB_ID)}),
    ("page 200, default order", {"page": "200"}),
    (
        "OR group of two conditions (City is Pune or tag VIP)",
        {"g0": "any", "f": ["city:eq:Pune", "tags:any:VIP"]},
    ),
    ("search by name (trigram index)", {"q": "Gita Menon"}),
    ("search by phone digits (trigram index)", {"q": "90000123"}),
    ("search by email (trigram index)", {"q": "person4242@"}),
    (
        "indexed City is Pune + sort by indexed Score, with count",
        {"f": "city:eq:Pune", "sort": "score"},
    ),
    ("page 300, default order", {"page": "300"}),
]
PLAIN_PAGE = "/settings/api-keys/"
# Custom fields the bench indexes (``manage.py index_field``) before it measures.
INDEXED_FIELDS = ("city", "score")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def timed(fn, repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall times in ms; ``cpu`` also gets this process's CPU time per call (less disturbed
    than wall time when other work shares the machine)."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return samples


def count_instructions(repeat: int, only: str, counting: Counting) -> None:
    """``--callgrind``'s run: each page ``repeat`` times with callgrind counting (warm-up
    first), one dump per page kind; the parent process prints the instructions per page."""
    client = signed_in_client()
    pages = [("plain signed-in page", PLAIN_PAGE, {})]
    pages += [(label, "/", params) for label, params in SCENARIOS if not only or only in label]
    for _label, path, params in pages:
        for _ in range(2):
            assert client.get(path, params).status_code == 200
        with counting:
            for _ in range(repeat):
                client.get(path, params)


def report_instructions(args: argparse.Namespace) -> None:
    argv = [a for a in sys.argv[1:] if a != "--callgrind"]
    counts = rerun_under_callgrind(__file__, argv)
    labels = ["plain signed-in page"]
    labels += [label for label, _ in SCENARIOS if not args.only or args.only in label]
    print(f"\n{connection.vendor}: instructions per page (callgrind, {args.repeat} pages each;")
    print("this process only: Python, the driver and SQLite, not a PostgreSQL server's work)")
    plain = counts[0] / args.repeat
    for label, count in zip(labels, counts, strict=True):
        per_page = count / args.repeat
        print(f"  {label:58} {per_page:14,.0f}  {per_page / plain:5.2f}x the plain page")


def signed_in_client() -> Client:
    user, _ = User.objects.get_or_create(username="bench-list", defaults={"is_superuser": True})
    user.is_superuser = True
    user.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def measure(repeat: int, only: str = "") -> None:
    client = signed_in_client()
    registry = field_registry()
    vendor = connection.vendor
    print(f"\n{vendor}, {Contact.objects.count():,} contacts, {repeat} runs each (ms)")
    print(
        f"{'scenario':58} {'median':>7} {'p95':>7} {'floor':>7} {'floor p95':>9} {'queries':>7}"
        f" {'cpu':>7}"
    )
    # The yardstick: a plain signed-in page (the API keys page: session, permissions, one
    # small query, the base template), measured in the same run as the list's pages.
    plain = timed(lambda: client.get(PLAIN_PAGE), repeat)
    print(
        f"{'plain signed-in page (' + PLAIN_PAGE + ')':58} {statistics.median(plain):7.1f} "
        f"{percentile(plain, 95):7.1f}"
    )
    p95s: dict[str, float] = {}
    for label, params in SCENARIOS:
        if only and only not in label:
            continue
        response = client.get("/", params)
        assert response.status_code == 200, response.status_code
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get("/", params)
        cpu: list[float] = []
        samples = timed(lambda p=params: client.get("/", p), repeat, cpu)
        query = parse_list_query(QueryDict(urlencode(params, doseq=True)), registry)
        page = contact_list_for(query, registry)
        offset = (query.page - 1) * query.per_page
        sql, sql_params = page[offset : offset + query.per_page].query.sql_with_params()

        def floor(sql=sql, sql_params=sql_params):
            with connection.cursor() as cursor:
                cursor.execute(sql, sql_params)
                cursor.fetchall()

        floor_samples = timed(floor, repeat)
        print(
            f"{label:58} {statistics.median(samples):7.1f} {percentile(samples, 95):7.1f} "
            f"{statistics.median(floor_samples):7.1f} {percentile(floor_samples, 95):9.1f} "
            f"{len(queries):7d} {statistics.median(cpu):7.1f}"
        )
        p95s[label] = percentile(samples, 95)
    report_targets(p95s, percentile(plain, 95))


def report_targets(p95s: dict[str, float], plain_p95: float) -> None:
    """The list's targets, against this run's own figures: every page's p95 at most 2x the
    first page's and at most 100 ms, the first page's at most 3x the plain page's."""
    first = p95s.get(SCENARIOS[0][0])
    if first is None:
        return
    print(f"\nfirst page p95 {first:.1f} ms = {first / plain_p95:.2f}x the plain page (target 3x)")
    for label, p95 in p95s.items():
        verdict = "ok" if p95 <= 2 * first and p95 <= 100 else "OVER"
        print(f"  {label:58} {p95 / first:5.2f}x first page, {p95:6.1f} ms  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument(
        "--no-field-indexes", action="store_true", help="measure without the fields' indexes"
    )
    parser.add_argument(
        "--callgrind", action="store_true", help="count instructions per page instead of time"
    )
    parser.add_argument(FLAG, help=argparse.SUPPRESS)  # set by --callgrind's own run
    args = parser.parse_args()
    load(args.contacts)
    if not args.no_field_indexes:
        for key in INDEXED_FIELDS:
            call_command("index_field", key)
    if args.callgrind:
        report_instructions(args)
    elif args.counting:
        count_instructions(args.repeat, args.only, Counting(args.counting))
    else:
        measure(args.repeat, args.only)


if __name__ == "__main__":
    main()

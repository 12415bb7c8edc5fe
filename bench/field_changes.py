"""Settings > Fields at scale: the page, a kind change's preview and its job, a delete.

    DATABASE_URL=sqlite:////tmp/benchdb/fields.sqlite3 \\
        .venv/bin/python bench/field_changes.py --contacts 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ch_bench_fields \\
        .venv/bin/python bench/field_changes.py --contacts 100000

Loads contacts with ``bench/list_pages.py``'s loader (its own database: the run changes the
fields), then times, as a manager through Django's test ``Client`` or as the worker runs it:

- the Fields page (one counting pass over the contacts for every field's value count);
- the preview of changing Score (number) to text (every value converts) and City (text) to
  number (no value converts: the worst case, every value listed);
- the kind change of Score to text as the job runs it (``field_change_run``: every contact
  rewritten, one activity entry each), and of City to number (every value kept aside);
- deleting the Interests field with its values.

Wall time and this process's CPU time (Python and SQLite's own work; PostgreSQL's server
work shows in wall time only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import list_pages
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.urls import reverse

from contacts import services
from contacts.models import Attribute, Contact
from contacts.selectors.field_values import field_kind_change_preview
from contacts.services import Actor


def timed(label: str, fn, repeat: int = 1) -> object:
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(
        f"{connection.vendor:10} {label:44} wall {statistics.median(walls):7.2f} s"
        f"   cpu {statistics.median(cpus):7.2f} s   (median of {repeat})"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    list_pages.load(args.contacts)
    total = Contact.objects.count()
    print(f"{connection.vendor}: {total:,} contacts")

    manager, _ = User.objects.get_or_create(username="bench-fields-manager")
    manager.groups.add(Group.objects.get(name="Managers"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(manager)
    services.FIELD_CHANGES.enqueue = lambda change_id: None  # the bench runs it itself

    def page() -> None:
        assert client.get(reverse("contacts:fields")).status_code == 200

    timed("Fields page", page, args.repeat)
    score, city = Attribute.objects.get(key="score"), Attribute.objects.get(key="city")
    preview = timed(
        "preview Score number -> text",
        lambda: field_kind_change_preview(attribute=score, to_type="text"),
    )
    print(f"{'':10} {preview.with_value:,} values, {preview.unconverted:,} would not convert")
    preview = timed(
        "preview City text -> number",
        lambda: field_kind_change_preview(attribute=city, to_type="number"),
    )
    print(f"{'':10} {preview.with_value:,} values, {preview.unconverted:,} would not convert")

    actor = Actor.system()
    for attribute, to_type in ((score, "text"), (city, "number")):
        change = services.field_kind_change_start(
            actor=actor, attribute_id=attribute.pk, to_type=to_type
        )
        change = timed(
            f"job {attribute.label} -> {to_type}",
            lambda change=change: services.field_change_run(change_id=change.pk),
        )
        print(
            f"{'':10} {change.status}: {change.done:,} contacts, {change.changed:,} changed, "
            f"{change.unconverted:,} kept aside"
        )
    interests = Attribute.objects.get(key="interests")
    change = services.field_delete_start(actor=actor, attribute_id=interests.pk)
    change = timed("job delete Interests", lambda: services.field_change_run(change_id=change.pk))
    print(f"{'':10} {change.status}: {change.changed:,} values removed")


if __name__ == "__main__":
    main()

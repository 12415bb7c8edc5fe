"""Bulk tag add/remove from the contact list, at scale (run after bench/list_pages.py loaded).

    DATABASE_URL=sqlite:////work/main/var/bench-list.sqlite3 \
        .venv/bin/python bench/list_bulk_tags.py [--all]

Times ``services.contacts_tags_add_bulk`` and ``contacts_tags_remove_bulk`` on every contact
matching ``City is Pune`` (about 1 in 20), and with ``--all`` on every contact, then removes
the tag again so the bench database is left as it was (apart from the activity entries).

With ``--background`` it times the way the list does it past CONTACTHUB_BULK_INLINE_LIMIT
contacts instead: ``bulk_action_start`` (what the web request does: fix the ids, queue the
task) and ``bulk_action_run`` (what the worker does, chunk by committed chunk).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacthub.test_settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from contacts import services  # noqa: E402
from contacts.fields import field_registry  # noqa: E402
from contacts.filtering import FilterTree  # noqa: E402
from contacts.filters import parse_filter  # noqa: E402
from contacts.selectors import contact_list  # noqa: E402
from contacts.services import Actor  # noqa: E402


def run(label: str, contacts) -> None:
    actor = Actor.system()
    started = time.perf_counter()
    added = services.contacts_tags_add_bulk(actor=actor, contacts=contacts, names=["Bench bulk"])
    add_s = time.perf_counter() - started
    started = time.perf_counter()
    removed = services.contacts_tags_remove_bulk(
        actor=actor, contacts=contacts, names=["Bench bulk"]
    )
    remove_s = time.perf_counter() - started
    print(
        f"{connection.vendor:10} {label:28} add {added:>7,} in {add_s:6.1f} s   "
        f"remove {removed:>7,} in {remove_s:6.1f} s"
    )


def run_background(label: str, contacts) -> None:
    actor = Actor.system()
    services.BULK_ACTIONS.enqueue = lambda action_id: None  # the bench runs it itself, below
    for kind in ("tags_add", "tags_remove"):
        started = time.perf_counter()
        action = services.bulk_action_start(
            actor=actor, kind=kind, contacts=contacts, names=["Bench bulk"]
        )
        request_s = time.perf_counter() - started
        started = time.perf_counter()
        action = services.bulk_action_run(action_id=action.pk)
        worker_s = time.perf_counter() - started
        print(
            f"{connection.vendor:10} {label:28} {kind:11} request {request_s:5.2f} s   "
            f"worker {action.changed:>7,} of {action.total:>7,} in {worker_s:6.1f} s "
            f"({action.status})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also tag every contact")
    parser.add_argument(
        "--background", action="store_true", help="as a background bulk action (start + run)"
    )
    args = parser.parse_args()
    registry = field_registry()
    pune = contact_list(
        registry=registry, filters=FilterTree.of([parse_filter("city:eq:Pune", registry)])
    )
    measure = run_background if args.background else run
    measure("City is Pune", pune)
    if args.all:
        measure("every contact", contact_list(registry=registry))


if __name__ == "__main__":
    main()

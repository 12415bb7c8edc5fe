"""Bulk actions as a kind of job: their contacts in a table, lease, reconnect, hand-back."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from contacts import services
from contacts.models import BulkAction, BulkActionContact, Contact
from contacts.services import Actor
from jobs.runner import LeaseLost, job_claim
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def tags(contact: Contact) -> set[str]:
    return {t.name for t in contact.tags.all()}


def test_the_selected_ids_go_into_the_table_in_id_order_a_chunk_per_insert(monkeypatch):
    contacts = [make_contact(name=f"C{i}") for i in range(5)]
    monkeypatch.setattr(services.bulk, "BULK_CHUNK", 2)
    targets = Contact.objects.filter(pk__in=[c.pk for c in contacts]).order_by("-pk")
    with CaptureQueriesContext(connection) as queries:
        action = services.bulk_action_start(
            actor=Actor.system(), kind="tags_add", contacts=targets, names=["VIP"]
        )
    table = BulkActionContact._meta.db_table
    inserts = [q for q in queries.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(inserts) == 3  # 2 + 2 + 1 rows
    rows = BulkActionContact.objects.filter(action=action).order_by("position")
    assert list(rows.values_list("position", "contact_id")) == [
        (i, c.pk) for i, c in enumerate(contacts)
    ]
    assert action.total == 5
    assert services.bulk_action_contact_ids(action, start=2, count=2) == [
        contacts[2].pk,
        contacts[3].pk,
    ]


def test_the_run_reads_one_chunk_of_ids_at_a_time():
    contacts = [make_contact(name=f"C{i}") for i in range(6)]
    action = services.bulk_action_start(
        actor=Actor.system(),
        kind="tags_add",
        contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
        names=["VIP"],
    )
    table = BulkActionContact._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        action = services.bulk_action_run(action_id=action.pk, chunk_size=2)
    reads = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert len(reads) == 3  # one a chunk: 2 + 2 + 2
    assert all('"position" >= ' in sql and '"position" < ' in sql for sql in reads)
    assert (action.status, action.done, action.changed) == ("completed", 6, 6)


def test_a_delete_action_works_from_its_table_though_the_contacts_are_gone(manager):
    doomed = [make_contact(name=f"D{i}") for i in range(3)]
    action = services.bulk_action_start(
        actor=Actor.web(manager),
        kind="delete",
        contacts=Contact.objects.filter(pk__in=[c.pk for c in doomed]),
    )
    action = services.bulk_action_run(action_id=action.pk, chunk_size=2)
    assert (action.status, action.changed) == ("completed", 3)
    assert not Contact.objects.exists()
    assert BulkActionContact.objects.filter(action=action).count() == 3  # kept until pruned


def test_an_old_run_stops_when_another_took_the_action_over():
    contacts = [make_contact(name=f"C{i}") for i in range(3)]
    action = services.bulk_action_start(
        actor=Actor.system(),
        kind="tags_add",
        contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
        names=["VIP"],
    )
    run = job_claim(services.BULK_ACTIONS, action.pk)
    assert run is not None
    BulkAction.objects.filter(pk=action.pk).update(lease="another-run")
    with pytest.raises(LeaseLost):
        list(services.bulk.bulk_action_work(run, chunk_size=2))
    assert all(tags(c) == set() for c in contacts)


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_mid_chunk_the_action_reconnects_and_carries_on(monkeypatch):
    monkeypatch.setattr(services.BULK_ACTIONS, "enqueue", lambda action_id: None)
    contacts = [make_contact(name=f"C{i}") for i in range(5)]
    action = services.bulk_action_start(
        actor=Actor.system(),
        kind="tags_add",
        contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]),
        names=["VIP"],
    )
    real = services.contacts_tags_add_bulk
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the server goes away while the second chunk runs
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(services.bulk, "contacts_tags_add_bulk", flaky)
    action = services.bulk_action_run(action_id=action.pk, chunk_size=2)
    assert (action.status, action.attempts, action.done, action.changed) == (
        "completed",
        1,
        5,
        5,
    )
    assert all(tags(c) == {"VIP"} for c in contacts)

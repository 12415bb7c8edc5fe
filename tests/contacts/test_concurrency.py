"""Concurrent writers on PostgreSQL: row locks and unique indexes keep every update."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from contacts import services
from contacts.models import Activity, Contact, Tag
from contacts.services import Actor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real concurrent connections: run with DATABASE_URL=postgres://... "
        "(CI does); the in-memory SQLite test database serialises everything anyway",
    ),
]


def run_in_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def runner(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_twenty_upserts_of_the_same_new_phone_end_with_one_contact_holding_every_tag():
    def work(n: int) -> None:
        services.contact_upsert(
            actor=Actor.system(),
            phone_number="9876543210",
            country_code="+91",
            values={f"trait {n}": n},
            tags=[f"tag {n}", "shared"],
            create_attributes=True,
        )

    errors = run_in_threads(20, work)
    assert errors == []
    contact = Contact.objects.get()
    assert sorted(t.name for t in contact.tags.all()) == sorted(
        [f"tag {n}" for n in range(20)] + ["shared"]
    )
    assert len(contact.traits) == 20
    assert Tag.objects.count() == 21
    assert Activity.objects.filter(contact=contact).count() == 20
    assert contact.version == 20


def test_concurrent_field_edits_of_different_fields_are_all_kept():
    contact = services.contact_create(
        actor=Actor.system(), phone_number="9876543210", country_code="91"
    )
    fields = ["name", "email", "user_id"]
    values = {"name": "Abel", "email": "abel@example.com", "user_id": "abel-1"}

    def work(n: int) -> None:
        key = fields[n]
        services.contact_field_update(
            actor=Actor.system(),
            contact_id=contact.pk,
            field_key=key,
            value=values[key],
            expected_value=None,
        )

    assert run_in_threads(3, work) == []
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.user_id) == tuple(values.values())

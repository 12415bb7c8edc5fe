"""A merge meeting concurrent writers on PostgreSQL: no newer value is lost, no duplicate
comes back."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from contacts import services
from contacts.models import Contact
from contacts.services import Actor, MergeRefused
from tests.factories import make_contact

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL): SQLite serializes writers",
    ),
]


def run_together(*works) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(works))

    def runner(work) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_writes_through_the_merged_phone_during_a_merge_all_land_on_the_survivor():
    for n in range(8):
        services.attribute_create(label=f"T{n}", key=f"t{n}", type="number")
    survivor = make_contact(phone_number="9700000001", name="Asha")
    other = make_contact(phone_number="9700000002", name="Asha K")

    def merge() -> None:
        services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])

    def write(n: int):
        return lambda: services.contact_upsert(
            actor=Actor.system(), phone_number="9700000002", country_code="91", values={f"t{n}": n}
        )

    errors = run_together(merge, *(write(n) for n in range(8)))

    assert errors == []
    (contact,) = Contact.objects.all()  # no duplicate came back
    assert contact.pk == survivor.pk
    assert contact.traits == {f"t{n}": n for n in range(8)}  # every write kept


def test_a_change_committed_before_the_merge_locks_refuses_the_prepared_merge():
    survivor = make_contact(phone_number="9700000001", name="Asha")
    other = make_contact(phone_number="9700000002", name="Asha K")
    seen = {survivor.pk: survivor.version, other.pk: other.version}
    results: list[str] = []

    def edit() -> None:
        try:
            services.contact_update(
                actor=Actor.system(), contact_id=other.pk, values={"name": "Asha Kumar"}
            )
            results.append("edited")
        except Contact.DoesNotExist:
            results.append("edit found it merged")

    def merge() -> None:
        try:
            services.contacts_merge(
                actor=Actor.system(),
                survivor_id=survivor.pk,
                other_ids=[other.pk],
                picks={"name": other.pk},
                expected_versions=seen,
            )
            results.append("merged")
        except MergeRefused:
            results.append("refused")

    assert run_together(edit, merge) == []

    if "refused" in results:  # the edit won the lock: the merge saw the newer version
        assert Contact.objects.get(pk=other.pk).name == "Asha Kumar"
    else:  # the merge won: the edit then found the contact merged away and failed loudly
        assert sorted(results) == ["edit found it merged", "merged"]
        assert Contact.objects.get().name == "Asha K"


def _waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "identity",
    [
        {"phone_number": "9700000002", "country_code": "91"},
        {"user_id": "crm-7"},
        {"user_id": "crm-7", "phone_number": "9700000002", "country_code": "91"},
    ],
)
def test_a_write_waiting_for_the_duplicate_a_merge_deletes_lands_on_the_survivor(identity):
    """The upsert's locked read waits for the merge, which deletes the duplicate: the read
    then finds no contact, and the new contact's INSERT, a later statement, sees the merge's
    alias and is stopped; the write goes to the survivor, and no duplicate comes back."""
    survivor = make_contact(phone_number="9700000001", user_id="crm-1", name="Asha")
    other = make_contact(phone_number="9700000002", user_id="crm-7", name="Asha K")
    merged, release = threading.Event(), threading.Event()
    results = []

    def merge() -> None:
        with transaction.atomic():  # the merge's locks held until this commits
            services.contacts_merge(
                actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk]
            )
            merged.set()
            assert release.wait(30)

    def write() -> None:
        assert merged.wait(30)
        results.append(
            services.contact_upsert(actor=Actor.system(), values={"city": "Goa"}, **identity)
        )

    services.attribute_create(label="City", key="city", type="text")
    threads = [threading.Thread(target=work) for work in (merge, write)]
    errors = []
    for thread, work in zip(threads, (merge, write), strict=True):
        thread.run = _collecting(work, errors)
        thread.start()
    for _ in range(300):  # until the write waits for the merge's row lock (at most 30 s)
        if _waiting_for_a_lock():
            break
        time.sleep(0.1)
    waited = _waiting_for_a_lock()
    release.set()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert waited == 1
    (result,) = results
    assert (result.contact.pk, result.created) == (survivor.pk, False)
    (contact,) = Contact.objects.all()  # no duplicate came back
    assert (contact.pk, contact.traits) == (survivor.pk, {"city": "Goa"})
    assert (contact.phone, contact.user_id) == ("+919700000001", "crm-1")


def _collecting(work, errors: list[BaseException]):
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)
        finally:
            connections.close_all()

    return run

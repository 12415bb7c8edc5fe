"""The contact matcher: by user id when known, else by phone; a conflict when they point at
two contacts. (What a write may do to the matched contact's identity is tested with the plan.)"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contacts.phones import normalize_phone
from contacts.selectors import contact_match
from contacts.services import ContactConflict
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def phone(national: str):
    return normalize_phone(national, "91")


def test_user_id_wins_over_an_unknown_phone():
    contact = make_contact(user_id="u-1", phone_number="9967536783")

    assert contact_match(user_id="u-1", phone=phone("9999999999")) == contact


def test_phone_matches_when_the_user_id_is_unknown_or_absent():
    contact = make_contact(phone_number="9967536783")

    assert contact_match(user_id=None, phone=phone("9967536783")) == contact
    assert contact_match(user_id="new-id", phone=phone("9967536783")) == contact


def test_nothing_matches():
    make_contact(user_id="u-1")

    assert contact_match(user_id="u-2", phone=phone("9967536783")) is None
    assert contact_match(user_id=None, phone=None) is None


def test_user_id_and_phone_of_two_contacts_are_a_conflict_on_the_canonical_key():
    make_contact(user_id="u-1", phone_number="9967536783")
    make_contact(user_id="u-2", phone_number="9967536784")

    with pytest.raises(ContactConflict, match="one contact and phone") as info:
        contact_match(user_id="u-1", phone=phone("9967536784"))

    assert info.value.field == "user_id"
    assert "u-1" in info.value.message


def test_lookup_is_two_reads(django_assert_max_num_queries):
    make_contact(user_id="u-1")

    with django_assert_max_num_queries(2):
        contact_match(user_id="u-1", phone=phone("9967536783"))


def test_lock_reads_for_update_where_the_database_can():
    contact = make_contact(user_id="u-1", phone_number="9800000001")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert contact_match(user_id="u-1", phone=phone("9800000001"), lock=True) == contact
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1  # both are the contact's own: one read finds it
    locking = connection.features.has_select_for_update
    assert all(sql.endswith(" FOR UPDATE") == locking for sql in reads)


@pytest.mark.parametrize(
    ("lookup", "reads"),
    [
        ({"phone": "9967536702", "user_id": None}, 1),
        ({"phone": None, "user_id": "u-2"}, 1),
        ({"phone": "9967536777", "user_id": None}, 2),  # none: the aliases are read too
        ({"phone": None, "user_id": "u-77"}, 2),
    ],
)
def test_the_match_reads_contacts_through_indexes_only(lookup, reads):
    """Each read finds its rows by an index: an ``OR`` of the own value and the aliases
    made PostgreSQL read every contact (0.5 s per API call at 500,000 contacts)."""
    for i in range(5):
        make_contact(phone_number=f"99675367{i:02d}", user_id=f"u-{i}")
    if lookup["phone"]:
        lookup = {**lookup, "phone": phone(lookup["phone"])}
    with CaptureQueriesContext(connection) as queries:
        contact_match(**lookup)
    assert len(queries.captured_queries) == reads
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Five rows would be read whole, or along the id order: leave the planner
                # only bitmap scans, which it can take only where an index matches.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute(f"EXPLAIN {query['sql']}")
                plan = [row[0] for row in cursor.fetchall()]
                shown = "\n".join(plan)
                assert "Bitmap Index Scan" in shown, shown
                assert "Seq Scan" not in shown and "SubPlan" not in shown, shown
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
                plan = [row[-1] for row in cursor.fetchall()]
                assert not any(line.startswith("SCAN contacts_") for line in plan), plan

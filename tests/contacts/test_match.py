"""The contact matcher: by user id when known, else by phone; a conflict when they disagree."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contacts.errors import ContactConflict
from contacts.phones import normalize_phone
from contacts.selectors import contact_match
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

PHONE = normalize_phone("9800000001", "91")
OTHER_PHONE = normalize_phone("9800000002", "91")


def test_user_id_wins_then_phone_then_nothing():
    by_user = make_contact(user_id="u-1", name="By user id")
    by_phone = make_contact(phone_number="9800000001", name="By phone")

    assert contact_match(user_id="u-1", phone=None) == by_user
    assert contact_match(user_id="u-9", phone=PHONE) == by_phone
    assert contact_match(user_id=None, phone=PHONE) == by_phone
    assert contact_match(user_id="u-9", phone=OTHER_PHONE) is None
    assert contact_match(user_id=None, phone=None) is None


def test_user_id_and_phone_of_two_contacts_is_a_conflict_on_user_id():
    make_contact(user_id="u-1")
    make_contact(phone_number="9800000001")

    with pytest.raises(ContactConflict, match="one contact and phone") as info:
        contact_match(user_id="u-1", phone=PHONE)
    assert info.value.field == "user_id"


def test_a_user_ids_contact_with_another_phone_is_a_conflict_on_the_phone():
    make_contact(user_id="u-1", phone_number="9800000002")

    with pytest.raises(ContactConflict, match="never changed") as info:
        contact_match(user_id="u-1", phone=PHONE)
    assert info.value.field == "phone_number"


def test_a_phones_contact_with_another_user_id_is_a_conflict_on_user_id():
    make_contact(user_id="u-1", phone_number="9800000001")

    with pytest.raises(ContactConflict, match='user id "u-1"') as info:
        contact_match(user_id="u-2", phone=PHONE)
    assert info.value.field == "user_id"


def test_a_contact_without_a_phone_matches_by_user_id_with_a_phone_given():
    contact = make_contact(user_id="u-1")
    assert contact_match(user_id="u-1", phone=PHONE) == contact


def test_lock_reads_for_update_where_the_database_can():
    contact = make_contact(user_id="u-1", phone_number="9800000001")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert contact_match(user_id="u-1", phone=PHONE, lock=True) == contact
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 2
    locking = connection.features.has_select_for_update
    assert all(sql.endswith(" FOR UPDATE") == locking for sql in reads)

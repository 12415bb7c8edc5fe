"""contacts.matching.contact_match: by user id, else by phone; a split identity is a conflict."""

from __future__ import annotations

import pytest

from contacts.matching import contact_match
from contacts.services import ContactConflict
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_user_id_wins_over_an_unknown_phone():
    contact = make_contact(user_id="u-1", phone_number="9967536783")

    assert contact_match(user_id="u-1", phone="+919999999999") == contact


def test_phone_matches_when_the_user_id_is_unknown_or_absent():
    contact = make_contact(phone_number="9967536783")

    assert contact_match(user_id=None, phone="+919967536783") == contact
    assert contact_match(user_id="new-id", phone="+919967536783") == contact


def test_nothing_matches():
    make_contact(user_id="u-1")

    assert contact_match(user_id="u-2", phone="+919967536783") is None
    assert contact_match(user_id=None, phone=None) is None


def test_user_id_and_phone_of_two_contacts_are_a_conflict_on_the_canonical_key():
    make_contact(user_id="u-1", phone_number="9967536783")
    make_contact(user_id="u-2", phone_number="9967536784")

    with pytest.raises(ContactConflict) as info:
        contact_match(user_id="u-1", phone="+919967536784")

    assert info.value.field == "user_id"
    assert "u-1" in info.value.message


def test_lookup_is_two_reads(django_assert_max_num_queries):
    make_contact(user_id="u-1")

    with django_assert_max_num_queries(2):
        contact_match(user_id="u-1", phone="+919967536783")

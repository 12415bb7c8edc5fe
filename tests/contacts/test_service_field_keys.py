"""Services name fields by canonical keys; the API's names (userId, ...) are the API's own."""

from __future__ import annotations

import pytest

from contacts.services import Actor, ContactConflict, ContactInputError, contact_upsert
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

API_NAMES = {"userId", "phoneNumber", "countryCode"}


def upsert(**kwargs):
    return contact_upsert(actor=Actor.system(), **kwargs)


def test_missing_identity_is_named_user_id():
    with pytest.raises(ContactInputError) as info:
        upsert(values={"name": "Nobody"})

    assert info.value.field == "user_id"
    assert not API_NAMES & set(info.value.message.replace(":", " ").split())


def test_user_id_and_phone_of_two_contacts_conflict_on_user_id():
    make_contact(user_id="a", phone_number="9876543210")
    make_contact(user_id="b", phone_number="9876543211")

    with pytest.raises(ContactConflict) as info:
        upsert(user_id="a", phone_number="9876543211", country_code="91")

    assert info.value.field == "user_id"


def test_another_phone_for_a_user_id_conflicts_on_phone_number():
    make_contact(user_id="a", phone_number="9876543210")

    with pytest.raises(ContactConflict) as info:
        upsert(user_id="a", phone_number="9876543299", country_code="91")

    assert info.value.field == "phone_number"


def test_another_user_id_for_a_phone_conflicts_on_user_id():
    make_contact(user_id="a", phone_number="9876543210")

    with pytest.raises(ContactConflict) as info:
        upsert(user_id="b", phone_number="9876543210", country_code="91")

    assert info.value.field == "user_id"


def test_user_id_sent_as_a_value_is_refused_in_neutral_words():
    with pytest.raises(ContactInputError) as info:
        upsert(phone_number="9876543210", country_code="91", values={"user_id": "x"})

    assert info.value.field == "user_id"
    assert "userId" not in info.value.message

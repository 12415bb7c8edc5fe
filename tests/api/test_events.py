"""POST /v1/public/track/events/: named events on the contact's timeline."""

from __future__ import annotations

import pytest

from contacts.models import Activity
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_event_is_recorded_on_the_timeline(api, new_key):
    contact = make_contact(phone_number="9967536783", country_code="91")

    response = api.track_event(
        {
            "phoneNumber": "9967536783",
            "countryCode": "+91",
            "event": "Order placed",
            "traits": {"Order number": "A-1", "amount": 2499},
        }
    )

    assert response.status_code == 200, response.content
    activity = Activity.objects.get(contact=contact, kind="event")
    assert response.json()["data"] == {
        "id": activity.pk,
        "contactId": contact.pk,
        "event": "Order placed",
    }
    assert activity.changes == {
        "event": "Order placed",
        "traits": {"Order number": "A-1", "amount": 2499},
    }
    assert activity.source == "api"
    assert activity.actor_api_key_id == new_key.api_key.pk


def test_events_never_replace_each_other_nor_touch_traits(api):
    contact = make_contact(user_id="u-1")
    version = contact.version

    for amount in (10, 20):
        api.track_event({"userId": "u-1", "event": "Order placed", "traits": {"amount": amount}})

    events = Activity.objects.filter(contact=contact, kind="event").order_by("id")
    assert [e.changes["traits"]["amount"] for e in events] == [10, 20]
    contact.refresh_from_db()
    assert contact.traits == {}
    assert contact.version == version


def test_event_shows_on_the_contact_page(api, viewer_client):
    contact = make_contact(user_id="u-1", name="Gavin")
    api.track_event({"userId": "u-1", "event": "Cart abandoned"})

    page = viewer_client.get(f"/contacts/{contact.pk}/")

    assert page.status_code == 200
    assert "Cart abandoned" in page.content.decode()


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"userId": "u-1", "event": "  "}, 422, "event"),
        ({"userId": "u-1", "event": "e" * 256}, 422, "event"),
        ({"userId": "u-1"}, 422, "event"),
        ({"event": "x"}, 422, "userId"),
        ({"phoneNumber": "12", "event": "x"}, 422, "phoneNumber"),
        ({"userId": "u-1", "event": "x", "traits": {"a": "\x00"}}, 422, "traits.a"),
        ({"userId": "nobody", "event": "x"}, 404, "userId"),
        ({"phoneNumber": "+919999999999", "event": "x"}, 404, "phoneNumber"),
    ],
)
def test_bad_events_are_refused(api, payload, status, field):
    make_contact(user_id="u-1")

    response = api.track_event(payload)

    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert not Activity.objects.filter(kind="event").exists()


def test_user_id_and_phone_of_two_contacts_is_409(api):
    make_contact(user_id="u-1")
    make_contact(phone_number="9967536783", country_code="91")

    response = api.track_event(
        {"userId": "u-1", "phoneNumber": "+919967536783", "event": "Signed up"}
    )

    assert response.status_code == 409
    assert not Activity.objects.filter(kind="event").exists()

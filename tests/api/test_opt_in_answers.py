"""Opt-in in the API's answers, and the batch stamping it exactly as the single call does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import timezone

from contacts.models import Activity, Contact, Tag

pytestmark = pytest.mark.django_db

BATCH = "/v1/public/track/users/batch/"
NOW = datetime(2026, 12, 1, 10, 15, 30, 250000, tzinfo=UTC)
STAMP = "2026-12-01T10:15:30.250Z"
SOURCE = "API key “Shop”"

# Set, send again (nothing changes), clear, and a user who never says.
PAYLOADS: list[dict[str, Any]] = [
    {"phoneNumber": "+919967536783", "traits": {"name": "Ann", "whatsapp_opted": True}},
    {"phoneNumber": "+919967536783", "traits": {"whatsappOpted": True}},
    {"phoneNumber": "+919967536783", "traits": {"WhatsApp Opted": "false"}, "tags": ["vip"]},
    {"userId": "u-2", "traits": {"name": "Ravi"}},
]
EXPECTED = [
    {"whatsappOpted": True, "optedInAt": STAMP, "optInSource": SOURCE, "optInChanged": True},
    {"whatsappOpted": True, "optedInAt": STAMP, "optInSource": SOURCE, "optInChanged": False},
    {"whatsappOpted": False, "optedInAt": STAMP, "optInSource": SOURCE, "optInChanged": True},
    # Created without a value: WhatsApp opted is its default, never set, nothing stamped.
    {"whatsappOpted": False, "optedInAt": None, "optInSource": "", "optInChanged": False},
]


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def opt_in_of(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in ("whatsappOpted", "optedInAt", "optInSource", "optInChanged")}


def stored() -> list[tuple[Any, ...]]:
    """Every contact's opt-in and the activity recording it, by identity."""
    contacts = [
        (c.user_id, c.phone, c.name, c.whatsapp_opted, c.opted_at, c.opt_in_source, c.version)
        for c in Contact.objects.order_by("phone", "user_id")
    ]
    activity = [
        (a.contact.phone, a.contact.user_id, a.kind, a.source, a.actor_api_key_id, a.changes)
        for a in Activity.objects.select_related("contact").order_by("pk")
    ]
    return [*contacts, *activity]


def wipe() -> None:
    Contact.objects.all().delete()
    Tag.objects.all().delete()


def test_single_calls_answer_the_opt_in_they_leave(api, frozen):
    answers = [api.track_user(payload) for payload in PAYLOADS]

    assert [a.status_code for a in answers] == [200] * 4
    assert [opt_in_of(a.json()["data"]) for a in answers] == EXPECTED
    ann = Contact.objects.get(phone="+919967536783")
    assert (ann.whatsapp_opted, ann.opted_at, ann.opt_in_source) == (False, NOW, SOURCE)


def test_the_batch_stamps_and_answers_opt_in_as_the_single_calls_do(api, frozen):
    for payload in PAYLOADS:
        assert api.track_user(payload).status_code == 200
    singles = stored()
    wipe()

    response = api.post(BATCH, {"users": PAYLOADS})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert [opt_in_of(r["data"]) for r in data["results"]] == EXPECTED
    assert data["optInChanged"] == 2
    assert stored() == singles
    ann = Contact.objects.get(phone="+919967536783")
    assert (ann.opted_at, ann.opt_in_source) == (NOW, SOURCE)
    entries = Activity.objects.filter(contact=ann).order_by("pk")
    assert [e.changes["fields"].get("whatsapp_opted") for e in entries] == [
        [None, True],
        [True, False],
    ]


def test_a_batch_keeps_an_earlier_stamp_it_does_not_change(api, frozen, new_key):
    api.track_user(PAYLOADS[0])
    Contact.objects.update(opt_in_source="Upload #3 by ana")

    response = api.post(BATCH, {"users": [{"phoneNumber": "+919967536783", "traits": {"x": 1}}]})

    result = response.json()["data"]["results"][0]
    assert result["status"] == "updated"
    assert opt_in_of(result["data"]) == {
        "whatsappOpted": True,
        "optedInAt": STAMP,
        "optInSource": "Upload #3 by ana",
        "optInChanged": False,
    }
    assert response.json()["data"]["optInChanged"] == 0
    assert Contact.objects.get().opt_in_source == "Upload #3 by ana"


def test_get_users_shows_when_and_where_opt_in_was_set(api, frozen):
    api.track_user(PAYLOADS[0])
    api.track_user(PAYLOADS[3])

    customers = api.users({}).json()["data"]["customers"]

    shown = [(c["traits"]["name"], c["opted_in_at_utc"], c["opt_in_source"]) for c in customers]
    assert shown == [("Ann", STAMP, SOURCE), ("Ravi", None, "")]
    assert customers[0]["traits"]["whatsapp_opted"] is True


def test_the_schema_describes_the_opt_in_answers(api):
    schemas = api.get("/v1/public/openapi.json").json()["components"]["schemas"]

    tracked = schemas["TrackedContactOut"]
    assert {"whatsappOpted", "optedInAt", "optInSource", "optInChanged"} <= set(tracked["required"])
    assert tracked["properties"]["optInChanged"]["type"] == "boolean"
    assert schemas["TrackResultsOut"]["properties"]["optInChanged"]["type"] == "integer"
    customer = schemas["CustomerOut"]["properties"]
    assert {"opted_in_at_utc", "opt_in_source"} <= set(customer)


@pytest.mark.parametrize("name", ["opted_at", "Opt-in source"])
def test_the_opt_in_stamps_cannot_be_sent(api, name):
    response = api.track_user({"phoneNumber": "+919967536783", "traits": {name: "x"}})

    assert response.status_code == 422, response.content
    assert response.json()["field"] == f"traits.{name}"
    assert not Contact.objects.exists()

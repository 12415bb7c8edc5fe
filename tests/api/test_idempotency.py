"""The Idempotency-Key header: a retry returns the first answer and applies nothing twice."""

from __future__ import annotations

import pytest

from api.idempotency import IDEMPOTENCY_TTL
from contacts.models import Activity, ApiIdempotencyRecord, Contact
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

PHONE = {"phoneNumber": "+919967536783"}


def test_retry_returns_the_first_answer_without_applying_twice(api):
    payload = {**PHONE, "traits": {"name": "Gavin"}, "tags": ["vip"]}

    first = api.track_user(payload, **{"Idempotency-Key": "order-1"})
    second = api.track_user(payload, **{"Idempotency-Key": "order-1"})

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert first.json()["data"]["created"] is True
    assert second["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1
    assert Activity.objects.count() == 1


def test_events_are_recorded_once_per_key(api):
    api.track_user(PHONE)
    event = {**PHONE, "event": "Order placed", "traits": {"amount": 10}}

    for _ in range(3):
        api.track_event(event, **{"Idempotency-Key": "evt-7"})
    api.track_event(event)  # without a key, every request counts

    assert Activity.objects.filter(kind="event").count() == 2


def test_same_key_with_a_different_body_is_refused(api):
    api.track_user({**PHONE, "traits": {"name": "A"}}, **{"Idempotency-Key": "k"})

    response = api.track_user({**PHONE, "traits": {"name": "B"}}, **{"Idempotency-Key": "k"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert response.json()["field"] == "Idempotency-Key"
    assert Contact.objects.get().name == "A"


def test_refusals_are_replayed_too(api):
    bad = {**PHONE, "traits": {"email": "nope"}}

    first = api.track_user(bad, **{"Idempotency-Key": "bad-1"})
    second = api.track_user(bad, **{"Idempotency-Key": "bad-1"})

    assert first.status_code == second.status_code == 422
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"


def test_keys_are_per_api_key(api, manager):
    from contacts.api_keys import api_key_create

    other = ApiClient(api_key_create(name="CRM", created_by=manager).secret)

    api.track_user({**PHONE, "traits": {"name": "A"}}, **{"Idempotency-Key": "same"})
    response = other.track_user({**PHONE, "traits": {"name": "B"}}, **{"Idempotency-Key": "same"})

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert Contact.objects.get().name == "B"


def test_overlong_key_is_422(api):
    response = api.track_user(PHONE, **{"Idempotency-Key": "k" * 256})

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    assert not Contact.objects.exists()


def test_expired_records_are_not_replayed(api):
    api.track_user({**PHONE, "traits": {"name": "A"}}, **{"Idempotency-Key": "old"})
    record = ApiIdempotencyRecord.objects.get()
    record.created_at -= IDEMPOTENCY_TTL
    record.save()

    response = api.track_user({**PHONE, "traits": {"name": "B"}}, **{"Idempotency-Key": "old"})

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert Contact.objects.get().name == "B"
    assert ApiIdempotencyRecord.objects.count() == 1

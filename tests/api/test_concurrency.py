"""Many clients at once on PostgreSQL: no 5xx, no duplicate contact, no lost update.

SQLite runs one writer at a time (BEGIN IMMEDIATE), so these races cannot happen there; on
PostgreSQL the requests really overlap and the row locks and unique indexes decide.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from contacts import services
from contacts.models import Activity, Contact, Tag
from contacts.services import Actor
from tests.api.conftest import ApiClient

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (set DATABASE_URL): SQLite serializes writers",
    ),
]

THREADS = 50


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def task(index: int) -> Any:
        try:
            barrier.wait()
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_fifty_clients_posting_the_same_new_phone_make_one_contact_with_all_tags(new_key, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "0"

    def post(index: int) -> int:
        client = ApiClient(new_key.secret)
        response = client.track_user(
            {"phoneNumber": "9967536783", "countryCode": "+91", "tags": [f"tag {index}"]}
        )
        return response.status_code

    statuses = run_together(THREADS, post)

    assert statuses == [200] * THREADS
    contact = Contact.objects.get()
    assert contact.phone == "+919967536783"
    assert sorted(t.name for t in contact.tags.all()) == sorted(f"tag {i}" for i in range(THREADS))
    assert Tag.objects.count() == THREADS
    assert Activity.objects.filter(kind="created").count() == 1


def test_api_and_upload_writing_the_same_contact_lose_no_update(new_key, settings):
    """Half the writers come through the API, half as an upload job would (same service)."""
    settings.CONTACTHUB_API_RATE_LIMIT = "0"
    contact = services.contact_create(
        actor=Actor.system(), phone_number="9967536783", country_code="91"
    )

    def write(index: int) -> int:
        if index % 2:
            response = ApiClient(new_key.secret).track_user(
                {"phoneNumber": "+919967536783", "traits": {f"api {index}": index}}
            )
            return response.status_code
        services.contact_upsert(
            actor=Actor.upload(user=None, upload_job_id=1),
            phone_number="+919967536783",
            values={f"upload {index}": index},
            create_attributes=True,
        )
        return 200

    statuses = run_together(20, write)

    assert statuses == [200] * 20
    contact.refresh_from_db()
    expected = {(f"api_{i}" if i % 2 else f"upload_{i}"): i for i in range(20)}
    assert contact.traits == expected
    assert contact.version == 1 + 20


def test_same_idempotency_key_at_once_applies_once(new_key, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "0"
    services.contact_create(actor=Actor.system(), phone_number="9967536783", country_code="91")

    def post(index: int) -> tuple[int, dict]:
        response = ApiClient(new_key.secret).track_event(
            {"phoneNumber": "+919967536783", "event": "Order placed"},
            **{"Idempotency-Key": "order-42"},
        )
        return response.status_code, response.json()

    answers = run_together(10, post)

    assert {status for status, _ in answers} == {200}
    assert len({body["data"]["id"] for _, body in answers}) == 1
    assert Activity.objects.filter(kind="event").count() == 1


def test_rate_limit_counts_every_request_across_connections(new_key, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "30/3600"

    statuses = run_together(
        40, lambda _: ApiClient(new_key.secret).get("/v1/public/ping/").status_code
    )

    assert statuses.count(200) == 30
    assert statuses.count(429) == 10

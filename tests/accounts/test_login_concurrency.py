"""Simultaneous wrong passwords for one account on PostgreSQL: the lock-out check and the
count are one step, so no more passwords are tested than the limit allows."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections
from django.test import Client

from tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real concurrent connections: run with DATABASE_URL=postgres://...; "
        "the SQLite test database serialises the attempts whatever the code does, so the "
        "test could not fail there",
    ),
]

ATTEMPTS = 25


def test_simultaneous_wrong_passwords_test_no_more_than_the_limit(settings, monkeypatch):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    UserFactory(username="ana")
    tested: list[str] = []
    tested_lock = threading.Lock()
    check_password = User.check_password

    def counting_check_password(user: User, raw_password: str) -> bool:
        with tested_lock:
            tested.append(raw_password)
        return check_password(user, raw_password)

    monkeypatch.setattr(User, "check_password", counting_check_password)
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def attempt(n: int) -> None:
        try:
            client = Client()
            barrier.wait()
            response = client.post(
                "/accounts/login/",
                {"username": "ana", "password": f"wrong-{n}"},
                REMOTE_ADDR=f"10.0.{n}.1",  # one address each: only the account limit applies
            )
            statuses.append(response.status_code)
        except BaseException as exc:  # the test reports every failure
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert statuses == [200] * ATTEMPTS
    assert len(tested) == 5

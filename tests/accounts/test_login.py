from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_right_password_logs_in_and_lands_on_contacts(client: Client):
    UserFactory(username="ana", groups=["Viewers"])
    response = log_in(client, "ana", "pass-word-123")
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_password_says_so_without_saying_which_part(client: Client):
    UserFactory(username="ana")
    response = log_in(client, "ana", "wrong")
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_account_is_locked_after_five_failures_even_with_the_right_password(client: Client):
    UserFactory(username="ana")
    for _ in range(5):
        log_in(client, "ana", "wrong")
    response = log_in(client, "ana", "pass-word-123")
    assert response.status_code == 200
    assert b"Too many failed log-ins. Try again in 15 minutes." in response.content
    assert "_auth_user_id" not in client.session


def test_lock_is_per_account_other_accounts_still_log_in(client: Client):
    UserFactory(username="ana")
    UserFactory(username="bob")
    for _ in range(5):
        log_in(client, "ANA", "wrong", address="10.0.0.2")
    assert log_in(Client(), "bob", "pass-word-123", address="10.0.0.2").status_code == 302


def test_address_is_locked_after_many_failures_across_accounts(settings, client: Client):
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    UserFactory(username="ana")
    for n in range(6):
        log_in(client, f"guess{n}", "wrong", address="10.9.9.9")
    assert log_in(client, "ana", "pass-word-123", address="10.9.9.9").status_code == 200
    assert log_in(Client(), "ana", "pass-word-123", address="10.1.1.1").status_code == 302


def test_success_clears_the_failures_of_the_account(client: Client):
    UserFactory(username="ana")
    for _ in range(3):
        log_in(client, "ana", "wrong")
    log_in(client, "ana", "pass-word-123")
    assert not AccessAttempt.objects.filter(username="ana").exists()


def test_success_keeps_the_failures_counted_against_the_address(settings, client: Client):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    UserFactory(username="ana")
    UserFactory(username="mallory")
    for n in range(3):
        log_in(client, f"guess{n}", "wrong", address="10.9.9.9")
    assert log_in(Client(), "mallory", "pass-word-123", address="10.9.9.9").status_code == 302
    log_in(client, "guess3", "wrong", address="10.9.9.9")
    assert log_in(Client(), "ana", "pass-word-123", address="10.9.9.9").status_code == 200


def test_refused_attempts_do_not_extend_the_lock(client: Client):
    UserFactory(username="ana")
    for _ in range(5):
        log_in(client, "ana", "wrong")
    before = AccessAttempt.objects.get(username="ana")
    for _ in range(3):
        assert b"Too many failed log-ins" in log_in(client, "ana", "wrong").content
    after = AccessAttempt.objects.get(username="ana")
    assert (after.failures_since_start, after.attempt_time) == (5, before.attempt_time)

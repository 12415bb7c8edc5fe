"""Keys, the error shape and every error status of the public API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from api import throttling
from api.auth import MAX_BODY_BYTES
from api.models import RateWindow
from api.throttling import ApiKeyThrottle
from contacts.api_keys import api_key_create, api_key_revoke, hash_key
from contacts.models import ApiKey, Contact
from tests.api.conftest import ApiClient, basic_credentials

pytestmark = pytest.mark.django_db

USER = {"phoneNumber": "+919967536783", "traits": {"name": "Gavin"}}
ERROR_KEYS = {"result", "code", "message", "field"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["result"] is False
    assert body["code"] == code
    assert body["message"]
    return body


def test_key_is_stored_hashed_and_shown_once(new_key):
    stored = ApiKey.objects.get(pk=new_key.api_key.pk)
    assert new_key.secret.startswith("chk_")
    assert len(new_key.secret) > 40
    assert new_key.secret not in (stored.secret_hash, stored.prefix)
    assert stored.secret_hash == hash_key(new_key.secret)
    assert stored.prefix == new_key.secret[:12]


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic", "Basic chk_wrong", "Bearer {secret}", "Basic {secret}x", "Basic Og=="],
)
def test_missing_or_wrong_key_is_401(new_key, header):
    client = Client()
    headers = {"Authorization": header.format(secret=new_key.secret)} if header else {}

    response = client.post(
        "/v1/public/track/users/", USER, content_type="application/json", headers=headers
    )

    body = assert_error(response, 401, "unauthorized")
    assert body["field"] == "Authorization"
    assert not Contact.objects.exists()


def test_revoked_key_is_401_and_others_keep_working(api, new_key, manager):
    other = api_key_create(name="CRM", created_by=manager)
    api_key_revoke(api_key_id=new_key.api_key.pk)

    response = api.track_user(USER)

    body = assert_error(response, 401, "unauthorized")
    assert "revoked" in body["message"]
    assert ApiClient(other.secret).track_user(USER).status_code == 200


def test_http_basic_credentials_also_work(new_key):
    client = ApiClient(basic_credentials(new_key.secret))

    assert client.track_user(USER).status_code == 200


def test_last_used_time_is_recorded(api, new_key):
    assert ApiKey.objects.get(pk=new_key.api_key.pk).last_used_at is None
    api.get("/v1/public/ping/")
    used = ApiKey.objects.get(pk=new_key.api_key.pk).last_used_at
    assert used is not None
    assert (timezone.now() - used).total_seconds() < 60


def test_ping_answers_with_the_key_name(api):
    response = api.get("/v1/public/ping/")

    assert response.status_code == 200
    assert response.json() == {"result": True, "message": "pong", "data": {"key": "Shop"}}


def test_session_cookie_is_ignored(manager_client):
    response = manager_client.post("/v1/public/track/users/", USER, content_type="application/json")

    assert_error(response, 401, "unauthorized")


def test_api_needs_no_csrf_token_but_the_web_does(new_key, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    api_response = client.post(
        "/v1/public/track/users/",
        USER,
        content_type="application/json",
        headers={"Authorization": f"Basic {new_key.secret}"},
    )
    web_response = client.post("/settings/api-keys/new/", {"name": "X"})

    assert api_response.status_code == 200
    assert web_response.status_code == 403


@pytest.mark.parametrize("raw", ["{bad", "[1,", b"\xff\xfe", "{" * 100_000 + "}" * 100_000])
def test_malformed_json_is_400(api, raw):
    response = api.post("/v1/public/track/users/", raw=raw)

    assert_error(response, 400, "malformed_json")


def test_unknown_path_is_404_json(api):
    assert_error(api.get("/v1/public/track/nothing/"), 404, "not_found")


def test_unknown_user_for_an_event_is_404(api):
    response = api.track_event({"userId": "nobody", "event": "Signed up"})

    body = assert_error(response, 404, "not_found")
    assert body["field"] == "userId"


def test_wrong_method_is_405_json(api):
    response = api.get("/v1/public/track/users/")

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_body_too_large_is_413(api):
    big = json.dumps({**USER, "traits": {"notes": "x" * MAX_BODY_BYTES}})

    response = api.post("/v1/public/track/users/", raw=big)

    assert_error(response, 413, "body_too_large")
    assert not Contact.objects.exists()


def test_conflict_is_409(api):
    api.track_user({"userId": "a", "phoneNumber": "+919967536783"})
    api.track_user({"userId": "b", "phoneNumber": "+919967536784"})

    response = api.track_user({"userId": "a", "phoneNumber": "+919967536784"})

    assert_error(response, 409, "conflict")


def test_validation_error_is_422(api):
    body = assert_error(api.track_user({"tags": [1]}), 422, "validation_error")
    assert body["field"] == "tags.0"


def test_limit_over_100_is_422(api):
    body = assert_error(api.users({}, query="?limit=101"), 422, "validation_error")
    assert body["field"] == "limit"


def test_rate_limit_is_429_with_retry_after(api, new_key, settings, monkeypatch):
    settings.CONTACTHUB_API_RATE_LIMIT = "3/60"
    now = 1_800_000_015.0  # 15 s into a window
    monkeypatch.setattr(ApiKeyThrottle, "timer", staticmethod(lambda: now))

    statuses = [api.get("/v1/public/ping/").status_code for _ in range(3)]
    response = api.get("/v1/public/ping/")

    assert statuses == [200, 200, 200]
    body = assert_error(response, 429, "rate_limited")
    assert body["message"] == "Rate limit exceeded for this resource"
    # 45 s to the next window, where these 3 weigh 3 x (1 - elapsed): room for one more
    # once they weigh 2, a third of the way in, 20 s later.
    assert response["Retry-After"] == "65"
    # The key's count is in the shared table: the three requests let through, not the fourth.
    assert RateWindow.objects.get(name=f"throttle_api_key_{new_key.api_key.pk}").used == 3


def test_rate_limit_is_per_key(api, manager, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "1/60"
    other = ApiClient(api_key_create(name="CRM", created_by=manager).secret)

    assert api.get("/v1/public/ping/").status_code == 200
    assert api.get("/v1/public/ping/").status_code == 429
    assert other.get("/v1/public/ping/").status_code == 200


def test_rate_limit_window_slides(api, new_key, settings, monkeypatch):
    settings.CONTACTHUB_API_RATE_LIMIT = "2/minute"
    now = 1_800_000_000.0  # the start of a window (a multiple of 60)
    monkeypatch.setattr(ApiKeyThrottle, "timer", staticmethod(lambda: now))
    assert [api.get("/v1/public/ping/").status_code for _ in range(3)] == [200, 200, 429]

    # 30 s into the next window, the two requests weigh half: room for one.
    now += 90
    assert api.get("/v1/public/ping/").status_code == 200
    response = api.get("/v1/public/ping/")
    assert response.status_code == 429
    # Room comes when the earlier window's weight falls to 0: at the start of the next one.
    assert response["Retry-After"] == "30"

    now += 120  # two whole windows later nothing is counted any more
    assert api.get("/v1/public/ping/").status_code == 200
    # Windows older than the previous one are deleted.
    name = f"throttle_api_key_{new_key.api_key.pk}"
    assert list(RateWindow.objects.filter(name=name).values_list("used", flat=True)) == [1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("600/60", (600, 60)),
        ("100/minute", (100, 60)),
        ("5/s", (5, 1)),
        ("1000/hour", (1000, 3600)),
        ("30", (30, 60)),
        ("0", None),
        ("", None),
        ("junk", None),
    ],
)
def test_rate_limit_setting(settings, value, expected):
    settings.CONTACTHUB_API_RATE_LIMIT = value
    assert throttling.rate_limit_setting() == expected


def test_rate_limit_default_is_600_per_minute(settings):
    del settings.CONTACTHUB_API_RATE_LIMIT
    assert throttling.rate_limit_setting() == (600, 60)

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from contacts.api_keys import NewApiKey, api_key_create


class ApiClient:
    """A test client that sends JSON with ``Authorization: Basic <key>``."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.secret = secret

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Basic {self.secret}"} if self.secret else {}
        return {**headers, **(extra or {})}

    def post(self, path: str, body: Any = None, *, raw: bytes | str | None = None, **headers):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path, data=data, content_type="application/json", headers=self.headers(headers)
        )

    def get(self, path: str, **headers):
        return self.client.get(path, headers=self.headers(headers))

    def track_user(self, body: Any, **headers):
        return self.post("/v1/public/track/users/", body, **headers)

    def track_event(self, body: Any, **headers):
        return self.post("/v1/public/track/events/", body, **headers)

    def users(self, body: Any = None, query: str = "", **headers):
        return self.post(f"/v1/public/apis/users/{query}", body, **headers)


@pytest.fixture
def new_key(db, manager) -> NewApiKey:
    return api_key_create(name="Shop", created_by=manager)


@pytest.fixture
def api(new_key) -> ApiClient:
    return ApiClient(new_key.secret)


def basic_credentials(secret: str) -> str:
    return base64.b64encode(f"{secret}:".encode()).decode()

"""The API keys page in Chromium: create a key, see it once, revoke it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contacts.models import ApiKey
from tests.api.conftest import ApiClient

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_creates_copies_and_revokes_a_key(new_page, manager, screenshot_dir):
    page = new_page(manager)
    page.get_by_role("link", name="API keys").click()
    page.wait_for_url("**/settings/api-keys/")

    page.get_by_label("Name").fill("Shop")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-secret").inner_text().strip()
    page.screenshot(path=screenshot_dir / "api-key-created.png", full_page=True)

    assert secret.startswith("chk_")
    assert ApiClient(secret).get("/v1/public/ping/").status_code == 200

    page.goto("/settings/api-keys/")
    assert page.locator("#new-key-secret").count() == 0
    page.get_by_role("button", name="Revoke Shop").click()
    page.wait_for_url("**/settings/api-keys/")
    page.screenshot(path=screenshot_dir / "api-key-revoked.png", full_page=True)

    assert ApiKey.objects.get().revoked_at is not None
    expect(page.get_by_text("Revoked").first).to_be_visible()
    assert ApiClient(secret).get("/v1/public/ping/").status_code == 401


def test_docs_page_renders_offline(new_page, screenshot_dir):
    page = new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto("/v1/public/docs/")
    page.screenshot(path=screenshot_dir / "api-docs.png")

    expect(page.get_by_role("heading", name="Contact Hub public API")).to_be_visible()
    expect(page.get_by_text("Create Gavin Roberts")).to_be_visible()
    base = page.url.split("/v1/")[0]
    assert all(url.startswith(base) for url in requests), requests

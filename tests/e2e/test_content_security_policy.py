"""The pages work under the Content Security Policy: the browser reports no violation."""

from __future__ import annotations

import pytest

from tests.factories import AttributeFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_main_pages_raise_no_csp_violation(new_page, manager):
    AttributeFactory(key="city", label="City")
    contact = make_contact(name="Ajmal", city="Pune", tags=["VIP"])
    page = new_page(manager)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    for path in [
        "/",
        f"/contacts/{contact.pk}/",
        "/uploads/new/",
        "/overview/",
        "/settings/api-keys/",
        "/v1/public/docs/",
        "/admin/contacts/contact/",
    ]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.goto(f"/contacts/{contact.pk}/")
    page.get_by_role("button", name="Edit Name").click()
    page.get_by_role("textbox", name="Name").fill("Abel")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Edit Name").wait_for()
    page.goto("/")
    page.get_by_role("button", name="Columns").click()
    page.wait_for_timeout(300)
    assert problems == []

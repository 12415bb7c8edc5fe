"""Duplicates in a real browser: find a pair, merge picking the other's value, the API then
reaching the survivor through the merged phone, unmerge."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contacts.api_keys import api_key_create
from contacts.models import Contact
from tests.factories import AttributeFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_find_a_pair_merge_with_a_picked_field_and_unmerge(new_page, manager, screenshot_dir):
    AttributeFactory(label="City", key="city", type="text")
    survivor = make_contact(
        phone_number="9700000001", name="Asha", email="asha@example.com", city="Pune"
    )
    other = make_contact(
        phone_number="9700000002", name="Asha K", email="ASHA@example.com", city="Goa"
    )
    page = new_page(manager)

    page.goto("/")
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_role("button", name="Find duplicates").click()
    group = page.get_by_test_id("duplicate-group")
    expect(group).to_have_count(1)
    expect(group).to_contain_text("Same email asha@example.com")
    page.screenshot(path=screenshot_dir / "1-groups.png", full_page=True)

    group.get_by_role("button", name="Merge…").click()
    city = page.locator('tr[data-field="city"]')
    expect(city).to_contain_text("Pune")
    city.get_by_role("radio").nth(1).check()  # Goa, the other contact's
    page.screenshot(path=screenshot_dir / "2-side-by-side.png", full_page=True)
    page.get_by_test_id("merge-submit").click()

    page.wait_for_url(f"**/contacts/{survivor.pk}/")
    expect(page.locator("#field-city")).to_contain_text("Goa")
    expect(page.locator("#timeline")).to_contain_text(f"Merged contact(s) {other.pk} into this one")
    page.screenshot(path=screenshot_dir / "3-merged.png", full_page=True)
    page.goto(f"/contacts/{other.pk}/")
    page.wait_for_url(f"**/contacts/{survivor.pk}/")  # the merged contact's page redirects

    # The shop sends the merged-away phone again: the survivor is updated, no duplicate made.
    key = api_key_create(name="Shop", created_by=manager)
    answer = page.request.post(
        "/v1/public/track/users/",
        data={"phoneNumber": "9700000002", "countryCode": "+91", "tags": ["From shop"]},
        headers={"Authorization": f"Basic {key.secret}"},
    )
    assert answer.status == 200, answer.text()
    assert answer.json()["data"]["id"] == survivor.pk
    assert Contact.objects.count() == 1
    page.reload()
    expect(page.locator("#contact-tags")).to_contain_text("From shop")

    page.get_by_test_id("unmerge").click()
    expect(page.locator("#timeline")).to_contain_text("(undone)")
    expect(page.locator("#field-city")).to_contain_text("Pune")
    expect(page.locator("#contact-tags")).to_contain_text("From shop")  # made after the merge
    page.screenshot(path=screenshot_dir / "4-unmerged.png", full_page=True)
    page.goto(f"/contacts/{other.pk}/")
    expect(page.locator("#field-city")).to_contain_text("Goa")
    assert Contact.objects.count() == 2

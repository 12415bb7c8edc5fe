"""The contact list in Chromium: columns, filter, sort, search, Back, select rows and tag them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, FieldType
from tests.factories import AttributeFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_columns_filter_sort_search_select_and_tag(new_page, editor, screenshot_dir):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(name="Asha Rao", phone_number="9876543210", email="asha@example.com", city="Pune")
    make_contact(name="Bala", phone_number="9123456780", email="bala@example.com", city="Pune")
    make_contact(name="Chitra", phone_number="9000000001", city="Mumbai")
    page = new_page(editor)
    page.goto("/")
    table = page.locator("table.contact-table")
    expect(page.locator("#list-count")).to_have_text("3 contacts")
    page.screenshot(path=screenshot_dir / "1-list.png", full_page=True)

    # Add the City column and remove Email.
    page.get_by_role("button", name="Columns").click()
    panel = page.locator("#columns-panel")
    expect(panel).to_be_visible()
    panel.get_by_role("checkbox", name="City").check()
    panel.get_by_role("checkbox", name="Email", exact=True).uncheck()
    panel.get_by_role("button", name="Move Name right").click()  # Phone first, then Name
    page.screenshot(path=screenshot_dir / "2-columns-panel.png")
    # Closed and opened again before applying: the panel keeps what was ticked.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    page.get_by_role("button", name="Columns").click()
    expect(panel.get_by_role("checkbox", name="City")).to_be_checked()
    expect(panel.get_by_role("checkbox", name="Email", exact=True)).not_to_be_checked()
    ticked = panel.locator("input[name=columns]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    )
    panel.get_by_role("button", name="Apply columns").click()
    expect(table.locator("th[data-field=city]")).to_be_visible()
    expect(table.locator("th[data-field=email]")).to_have_count(0)
    shown = table.locator("thead th[data-field]").evaluate_all(
        "els => els.map(e => e.dataset.field)"
    )
    assert shown == ticked
    assert shown[:2] == ["phone", "name"] and "city" in shown

    # Filter: City is Pune.
    # Choosing a field swaps in new operator and value inputs: wait for the swap itself (the
    # old inputs, marked, are gone) before typing, or the swap could drop what was typed.
    page.locator("#nf-value").evaluate("input => { input.dataset.stale = 'yes'; }")
    page.locator("#nf-field").select_option("city")
    expect(page.locator("#nf-value[data-stale]")).to_have_count(0)
    expect(page.locator("#nf-op option[value=eq]")).to_have_count(1)
    page.locator("#nf-op").select_option("eq")
    page.locator("#nf-value").fill("pune")
    page.get_by_role("button", name="Add filter").click()
    expect(page.locator(".filter-chip", has_text="City is pune")).to_be_visible()
    expect(page.locator("#list-count")).to_have_text("2 matching")
    expect(page).to_have_url(re.compile(r"f=city%3Aeq%3Apune"))
    page.screenshot(path=screenshot_dir / "3-filtered.png", full_page=True)

    # Sort by name, descending on the second click.
    table.get_by_role("link", name="Name", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    table.get_by_role("link", name=re.compile("^Name")).click()
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect(table.locator("tbody tr").first).to_contain_text("Bala")

    # Search as you type (debounced), then Back restores the previous state.
    page.get_by_label("Search").press_sequentially("asha", delay=40)
    expect(page).to_have_url(re.compile(r"\?q=asha&f=city%3Aeq%3Apune&sort=-name$"))
    expect(page.locator("#list-count")).to_have_text("1 matching")
    expect(table.locator("tbody tr")).to_have_count(1)
    page.screenshot(path=screenshot_dir / "4-search.png", full_page=True)
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"q=asha"))
    expect(page.locator("#list-count")).to_have_text("2 matching")
    expect(page.get_by_label("Search")).to_have_value("")

    # Select both rows and add a tag to them.
    page.locator("[data-select-page]").check()
    expect(page.locator("#bulk-scope")).to_contain_text("2 selected")
    page.get_by_role("button", name="Add tags").click()
    dialog = page.locator("#bulk-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Add tags to 2 contacts (the selected rows)")
    dialog.get_by_label("Tags").fill("Pune list")
    page.screenshot(path=screenshot_dir / "5-bulk-dialog.png")
    dialog.get_by_role("button", name="Add tags").click()
    expect(page.locator(".toast")).to_contain_text("Tags added to 2 contacts.")
    expect(page.locator("#list-count")).to_have_text("2 matching")
    expect(page.locator("table.contact-table .tag-chip", has_text="Pune list")).to_have_count(2)
    page.screenshot(path=screenshot_dir / "6-tagged.png", full_page=True)
    tagged = Contact.objects.filter(tags__name="Pune list").values_list("name", flat=True)
    assert sorted(tagged) == ["Asha Rao", "Bala"]

    # Remove the filter chip: all three contacts again.
    page.get_by_role("link", name="Remove filter: City is pune").click()
    expect(page.locator("#list-count")).to_have_text("3 contacts")


def test_bad_filter_value_shows_a_message(new_page, editor, screenshot_dir):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    make_contact(name="Asha", score=5)
    page = new_page(editor)
    page.goto("/")
    page.locator("#nf-field").select_option("score")
    expect(page.locator("#nf-op option[value=gt]")).to_have_count(1)
    page.locator("#nf-op").select_option("gt")
    page.locator("#nf-value").fill("1O")
    page.get_by_role("button", name="Add filter").click()
    expect(page.get_by_role("alert")).to_contain_text('Score: expected a number (got "1O")')
    expect(page.locator("#list-count")).to_have_text("1 contact")
    expect(page.locator("#nf-value")).to_have_value("1O")  # what was typed is kept
    page.screenshot(path=screenshot_dir / "bad-filter.png", full_page=True)


def test_large_bulk_action_goes_to_its_progress_page_and_back(
    new_page, editor, screenshot_dir, settings
):
    settings.CONTACTHUB_BULK_INLINE_LIMIT = 2  # "large" for the test: more than two contacts
    for i in range(4):
        make_contact(name=f"Lead {i}")
    page = new_page(editor)
    page.goto("/?q=lead")
    expect(page.locator("#list-count")).to_have_text("4 matching")
    page.get_by_role("button", name="Add tags").click()
    dialog = page.locator("#bulk-dialog")
    expect(dialog).to_contain_text("Add tags to 4 contacts (every contact matching the list)")
    dialog.get_by_label("Tags").fill("Campaign")
    dialog.get_by_role("button", name="Add tags").click()

    expect(page).to_have_url(re.compile(r"/list/bulk/\d+/$"))
    expect(page.get_by_test_id("bulk-status")).to_have_text("Completed")
    expect(page.get_by_test_id("bulk-done")).to_contain_text("4 of 4 contacts worked through")
    page.screenshot(path=screenshot_dir / "bulk-progress.png", full_page=True)
    page.get_by_role("link", name="Back to the list").click()
    expect(page).to_have_url(re.compile(r"/\?q=lead$"))
    expect(page.locator("table.contact-table .tag-chip", has_text="Campaign")).to_have_count(4)

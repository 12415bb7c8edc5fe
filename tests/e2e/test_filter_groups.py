"""Filter groups in Chromium: build an OR of two groups, save it as a view, open the view in
a fresh browser context, export it, and change the groups with the keyboard."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts.models import FieldType
from tests.factories import AttributeFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def add_filter(page, field: str, op: str, value: str, group: str | None = None) -> None:
    # Choosing a field swaps in its operator and value inputs: wait for them before typing.
    with page.expect_response(lambda r: "/list/filter-inputs/" in r.url):
        page.locator("#nf-field").select_option(field)
    expect(page.locator(f"#nf-op option[value={op}]")).to_have_count(1)
    page.locator("#nf-op").select_option(op)
    page.locator("#nf-value").fill(value)
    if group is not None:
        page.locator("#nf-group").select_option(label=group)
    page.get_by_role("button", name="Add filter").click()


def test_or_group_saved_as_view_opened_fresh_and_exported(new_page, editor, screenshot_dir):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    make_contact(name="Asha", phone_number="9876543210", city="Pune", score=5)
    make_contact(name="Bala", phone_number="9123456780", city="Delhi", score=50)
    make_contact(name="Chitra", phone_number="9000000001", city="Pune", score=80)
    make_contact(name="Dev", phone_number="9000000002", city="Goa", score=1)
    page = new_page(editor)
    page.goto("/")

    # Group 1: City is Goa. Group 2: Score > 60. Then combine the groups with OR.
    add_filter(page, "city", "eq", "Goa")
    expect(page.locator("#list-count")).to_have_text("1 matching")
    add_filter(page, "score", "gt", "60", group="a new group")
    expect(page.locator("[data-testid=filter-group]")).to_have_count(2)
    expect(page.locator("#list-count")).to_have_text("0 matching")  # Goa AND > 60
    join = page.get_by_role("link", name="Groups combine with AND: switch to OR")
    join.focus()
    page.keyboard.press("Enter")  # the keyboard works as the mouse does
    expect(page.locator("#list-count")).to_have_text("2 matching")
    expect(page).to_have_url(re.compile(r"g1\.f=score%3Agt%3A60.*match=any"))
    expect(page.get_by_role("link", name="Groups combine with OR: switch to AND")).to_be_visible()
    page.screenshot(path=screenshot_dir / "1-or-groups.png", full_page=True)

    # Save it as a view.
    page.get_by_role("button", name="Saved views").click()
    page.get_by_role("button", name="Save current view…").click()
    page.get_by_label("View name").fill("Goa or high score")
    page.get_by_role("button", name="Save view").click()
    expect(page).to_have_url(re.compile(r"view=\d+"))
    page.screenshot(path=screenshot_dir / "2-saved.png", full_page=True)

    # A fresh browser context (its own session) opens the view.
    fresh = new_page(editor)
    fresh.goto("/")
    expect(fresh.locator("#list-count")).to_have_text("4 contacts")
    fresh.get_by_role("button", name="Saved views").click()
    fresh.get_by_role("link", name="Goa or high score").click()
    expect(fresh.locator("#list-count")).to_have_text("2 matching")
    expect(fresh.locator("[data-testid=filter-group]")).to_have_count(2)
    table = fresh.locator("table.contact-table")
    expect(table.get_by_role("link", name="Chitra")).to_be_visible()
    expect(table.get_by_role("link", name="Dev")).to_be_visible()
    expect(table.get_by_role("link", name="Bala")).to_have_count(0)
    fresh.screenshot(path=screenshot_dir / "3-view-in-fresh-context.png", full_page=True)

    # Export every matching contact.
    fresh.get_by_role("button", name="Export CSV").click()
    expect(fresh.locator(".bulk-count")).to_contain_text("Export 2 contacts")
    # The dialog fades in: wait until it is fully drawn before the screenshot.
    expect(fresh.locator("#bulk-dialog")).to_have_css("opacity", "1")
    fresh.screenshot(path=screenshot_dir / "4-export-confirm.png")
    with fresh.expect_download() as download_info:
        fresh.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert sorted(r["Name"] for r in rows) == ["Chitra", "Dev"]

    # Remove a condition with the keyboard: only "Score > 60" is left.
    fresh.keyboard.press("Escape")
    remove = fresh.get_by_role("link", name="Remove filter: City is Goa")
    remove.focus()
    fresh.keyboard.press("Enter")
    expect(fresh.locator("[data-testid=filter-group]")).to_have_count(1)
    expect(fresh.locator("#list-count")).to_have_text("1 matching")
    fresh.screenshot(path=screenshot_dir / "5-condition-removed.png", full_page=True)

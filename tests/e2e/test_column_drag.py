"""The contact list's column headers reorder by drag, saved per user like the Columns panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contacts.models import ListPreference
from tests.factories import make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def header_keys(page) -> list[str]:
    return page.locator("table.contact-table th[data-field]").evaluate_all(
        "ths => ths.map(th => th.dataset.field)"
    )


def test_drag_a_header_to_move_its_column_and_it_stays_for_that_user(
    new_page, editor, screenshot_dir
):
    make_contact(name="Asha", email="asha@example.com")
    page = new_page(editor)
    page.goto("/")
    start = header_keys(page)
    assert start[:3] == ["name", "phone", "email"]

    email, name = (
        page.locator(f"table.contact-table th[data-field={k}]") for k in ("email", "name")
    )
    email.drag_to(name, target_position={"x": 3, "y": 5})  # onto Name's left half: before it
    expect(page.locator("table.contact-table th[data-field]").first).to_have_attribute(
        "data-field", "email"
    )
    page.screenshot(path=screenshot_dir / "dragged.png")
    moved = ["email", "name", "phone", *start[3:]]
    assert header_keys(page) == moved
    assert ListPreference.objects.get(user=editor).columns == moved

    # Onto the right half of the last column: to the end. The panel's order follows.
    last = page.locator("table.contact-table th[data-field]").last
    box = last.bounding_box()
    page.locator("table.contact-table th[data-field=email]").drag_to(
        last, target_position={"x": box["width"] - 3, "y": 5}
    )
    expect(page.locator("table.contact-table th[data-field]").last).to_have_attribute(
        "data-field", "email"
    )
    panel_order = page.locator("#columns-form li[data-column]").evaluate_all(
        "lis => lis.map(li => li.dataset.column)"
    )
    assert panel_order[: len(moved)] == [*moved[1:], "email"]

    fresh = new_page(editor)  # a new session of the same user
    fresh.goto("/")
    assert header_keys(fresh) == [*moved[1:], "email"]

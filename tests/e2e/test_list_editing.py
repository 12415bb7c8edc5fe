"""The contact list in Chromium: cells edited in place, columns moved by keyboard, and a pass
with the keyboard alone (search, move, open, edit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts.models import Activity, Contact
from tests.factories import make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/listui-shots")


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / name, full_page=True)


def cell(page, contact: Contact, key: str):
    row = page.locator(
        "table.contact-table tbody tr", has=page.locator(f'input[value="{contact.pk}"]')
    )
    return row.locator(f"td[data-field={key}]")


def test_edit_a_cell_in_place_and_meet_a_conflict(new_page, editor):
    asha = make_contact(name="Asha", email="asha@example.com")
    mine = new_page(editor)
    theirs = new_page(editor)
    mine.goto("/")
    theirs.goto("/")

    # Both open the same cell's editor; the other context saves second.
    other = cell(theirs, asha, "email")
    other.hover()
    theirs.get_by_role("button", name="Edit Email of Asha").click()
    expect(other.get_by_role("textbox")).to_have_value("asha@example.com")

    email = cell(mine, asha, "email")
    email.hover()
    mine.get_by_role("button", name="Edit Email of Asha").click()
    box = email.get_by_role("textbox", name="Email of Asha")
    expect(box).to_be_focused()
    box.fill("asha.rao@example.com")
    shot(mine, "1-cell-editor.png")
    box.press("Enter")
    expect(email).to_contain_text("asha.rao@example.com")
    expect(email.locator(".cell-editor")).to_have_count(0)
    expect(email).to_be_focused()

    other.get_by_role("textbox").fill("a.r@example.com")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_role("alert")).to_contain_text("changed by someone else")
    expect(other.locator(".conflict-current")).to_have_text("asha.rao@example.com")
    shot(theirs, "2-cell-conflict.png")
    other.get_by_role("button", name="Overwrite with mine").click()
    expect(other).to_contain_text("a.r@example.com")
    asha.refresh_from_db()
    assert asha.email == "a.r@example.com"
    assert Activity.objects.filter(contact=asha, kind="updated").count() == 2

    # Escape cancels; the phone has no pencil.
    other.hover()
    theirs.get_by_role("button", name="Edit Email of Asha").click()
    other.get_by_role("textbox").fill("dropped@example.com")
    other.get_by_role("textbox").press("Escape")
    expect(other.locator(".cell-editor")).to_have_count(0)
    expect(other).to_contain_text("a.r@example.com")
    expect(theirs.get_by_role("button", name="Edit Phone of Asha")).to_have_count(0)


def test_tab_saves_and_moves_to_the_next_cells_editor(new_page, editor):
    asha = make_contact(name="Asha", email="asha@example.com")
    page = new_page(editor)
    page.goto("/")
    name = cell(page, asha, "name")
    name.hover()
    page.get_by_role("button", name="Edit Name of Asha").click()
    box = name.get_by_role("textbox")
    expect(box).to_be_focused()  # the editor is set up (htmx processed it), as a person sees
    box.fill("Asha Rao")
    box.press("Tab")
    expect(name).to_contain_text("Asha Rao")
    email_box = cell(page, asha, "email").get_by_role("textbox")
    expect(email_box).to_be_focused()
    email_box.press("Escape")
    asha.refresh_from_db()
    assert asha.name == "Asha Rao"


def test_viewer_has_no_pencil(new_page, viewer):
    make_contact(name="Asha", email="asha@example.com")
    page = new_page(viewer)
    page.goto("/")
    expect(page.locator("table.contact-table")).to_contain_text("Asha")
    expect(page.locator(".cell-edit")).to_have_count(0)


def test_reorder_columns_by_keyboard(new_page, editor):
    make_contact(name="Asha", email="asha@example.com")
    page = new_page(editor)
    page.goto("/")
    columns = page.get_by_role("button", name="Columns", exact=True)
    columns.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#columns-panel")
    expect(panel).to_be_visible()
    expect(panel).not_to_have_class(re.compile("showing"))  # shown: it has taken the focus
    move = panel.get_by_role("button", name="Move Email left")
    move.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # the focus stays on the button: Email moves twice
    expect(move).to_be_focused()
    expect(panel.locator("li").first).to_have_attribute("data-column", "email")
    shot(page, "3-columns-moved.png")
    panel.get_by_role("button", name="Apply columns").focus()
    page.keyboard.press("Enter")
    headers = page.locator("table.contact-table thead th[data-field]")
    expect(headers.first).to_have_attribute("data-field", "email")
    page.reload()
    expect(headers.first).to_have_attribute("data-field", "email")


def test_keyboard_only_search_move_open_and_edit(new_page, editor):
    asha = make_contact(name="Asha", email="asha@example.com")
    bala = make_contact(name="Bala", email="bala@example.com")
    make_contact(name="Chitra", email="chitra@example.com")
    page = new_page(editor)
    page.goto("/")
    page.locator("body").press("?")
    dialog = page.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Edit the focused cell")
    shot(page, "4-shortcuts.png")
    expect(dialog).to_be_focused()  # shown: the dialog takes the focus, Escape closes it
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # / focuses search; type, then j goes to the first row of the results.
    page.locator("body").press("/")
    search = page.get_by_role("searchbox", name="Search")
    expect(search).to_be_focused()
    search.press_sequentially("a", delay=30)
    expect(page).to_have_url(re.compile(r"q=a"))
    expect(page.locator("#list-count")).to_have_text("3 matching")
    search.press("ArrowDown")
    rows = page.locator("table.contact-table tbody tr")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    page.keyboard.press("j")
    focused_name = rows.nth(1).locator("td[data-field=name]").inner_text()
    target = bala if "Bala" in focused_name else asha

    # Right enters the row's cells (Name, then Phone, then Email); e edits the focused one.
    page.keyboard.press("ArrowRight")
    name_cell = rows.nth(1).locator("td[data-field=name]")
    expect(name_cell).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    email_cell = rows.nth(1).locator("td[data-field=email]")
    expect(email_cell).to_be_focused()
    page.keyboard.press("e")
    editor_box = email_cell.locator(".cell-editor input[name=value]")
    expect(editor_box).to_be_focused()
    editor_box.fill(f"{target.name.lower()}@example.org")
    shot(page, "5-keyboard-edit.png")
    page.keyboard.press("Enter")
    expect(email_cell).to_contain_text("@example.org")
    expect(email_cell).to_be_focused()
    target.refresh_from_db()
    assert target.email == f"{target.name.lower()}@example.org"

    # Back on the row, Enter opens the contact.
    page.keyboard.press("Escape")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/contacts/{target.pk}/$"))

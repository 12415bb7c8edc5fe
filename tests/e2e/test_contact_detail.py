"""The contact page in a real browser: pencil editing, conflicts, keyboard use, + Add Field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from contacts import services
from contacts.models import Activity, Attribute, Contact
from contacts.services import Actor
from tests.factories import AttributeFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def row(page, key: str):
    return page.locator(f"#field-{key}")


def test_seed_walkthrough_rename_ajmal_to_abel_then_add_city(page, editor, screenshot_dir):
    AttributeFactory(label="City", key="city", type="text")  # as the demo data has it
    contact = make_contact(name="Ajmal", phone_number="9876543210")

    page.goto("/")
    page.get_by_role("link", name="Ajmal").first.click()
    page.wait_for_url(f"**/contacts/{contact.pk}/")
    expect(page.get_by_role("heading", name="Ajmal")).to_be_visible()
    # Phone is shown, locked, with no pencil.
    expect(row(page, "phone")).to_contain_text("+919876543210")
    expect(page.get_by_role("button", name="Edit Phone")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "1-page.png", full_page=True)

    page.get_by_role("button", name="Edit Name").click()
    name_input = page.get_by_role("textbox", name="Name")
    expect(name_input).to_be_focused()
    expect(name_input).to_have_value("Ajmal")
    name_input.fill("Abel")
    page.screenshot(path=screenshot_dir / "2-editing.png", full_page=True)
    page.get_by_role("button", name="Save").click()

    expect(row(page, "name")).to_contain_text("Abel")
    expect(page.get_by_role("button", name="Edit Name")).to_be_focused()
    expect(page.locator("#contact-heading")).to_have_text("Abel")
    expect(page.locator("#contact-crumb")).to_have_text("Abel")
    expect(page).to_have_title(re.compile(r"^Abel · "))
    expect(page.locator("body title")).to_have_count(0)
    entry = page.locator(".timeline-entry").first
    expect(entry).to_contain_text("Updated")
    expect(entry).to_contain_text("by editor")
    expect(entry.locator(".change-old")).to_have_text("Ajmal")
    expect(entry.locator(".change-new")).to_have_text("Abel")
    page.screenshot(path=screenshot_dir / "3-saved.png", full_page=True)

    page.get_by_role("button", name="+ Add Field").click()
    page.get_by_label("Field", exact=True).select_option(label="City")
    expect(page.get_by_label("New field's label")).to_be_hidden()
    page.get_by_role("button", name="Next").click()
    city = page.get_by_role("textbox", name="City")
    expect(city).to_be_focused()
    city.fill("Kochi")
    page.screenshot(path=screenshot_dir / "4-add-city.png", full_page=True)
    city.press("Enter")
    expect(row(page, "city")).to_contain_text("Kochi")
    expect(page.get_by_role("button", name="Edit City")).to_be_visible()
    expect(page.get_by_role("button", name="+ Add Field")).to_be_visible()
    expect(page.locator(".timeline-entry").first).to_contain_text("City:")
    page.screenshot(path=screenshot_dir / "5-city-added.png", full_page=True)

    contact.refresh_from_db()
    assert contact.name == "Abel" and contact.traits == {"city": "Kochi"}
    assert contact.phone == "+919876543210"

    page.goto("/")
    expect(page.get_by_role("link", name="Abel").first).to_be_visible()
    expect(page.get_by_text("+919876543210").first).to_be_visible()
    page.screenshot(path=screenshot_dir / "6-list.png", full_page=True)


def test_escape_and_cancel_restore_the_row(page, screenshot_dir):
    contact = make_contact(name="Ajmal")
    page.goto(f"/contacts/{contact.pk}/")

    page.get_by_role("button", name="Edit Name").click()
    page.get_by_role("textbox", name="Name").fill("Something else")
    page.keyboard.press("Escape")
    expect(row(page, "name")).to_contain_text("Ajmal")
    expect(page.get_by_role("textbox", name="Name")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Name")).to_be_focused()

    page.get_by_role("button", name="Edit Email").click()
    page.get_by_role("textbox", name="Email").fill("nobody@example.com")
    page.get_by_role("button", name="Cancel").click()
    expect(row(page, "email")).to_contain_text("—")
    page.screenshot(path=screenshot_dir / "cancelled.png", full_page=True)

    page.get_by_role("button", name="+ Add Field").click()
    expect(page.get_by_role("form", name="Add a field")).to_be_visible()
    # Let htmx finish swapping and settling the form before keys reach it.
    # (A locator, not wait_for_function: that evaluates a string, which the CSP refuses.)
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)
    page.get_by_label("Field", exact=True).press("Escape")
    expect(page.get_by_role("button", name="+ Add Field")).to_be_focused()

    contact.refresh_from_db()
    assert contact.name == "Ajmal" and contact.email == "" and contact.version == 1
    assert Activity.objects.filter(contact=contact).count() == 1


def test_invalid_value_keeps_the_editor_open_with_the_message(page, screenshot_dir):
    AttributeFactory(label="Orders", key="orders", type="number")
    contact = make_contact(name="Ajmal", orders=3)
    page.goto(f"/contacts/{contact.pk}/")
    page.get_by_role("button", name="Edit Orders").click()
    orders = page.get_by_role("textbox", name="Orders")
    expect(orders).to_be_focused()  # the editor is set up (htmx processed it), as a person sees
    orders.fill("12a")
    orders.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Orders: expected a number")).to_be_visible()
    expect(page.get_by_role("textbox", name="Orders")).to_have_value("12a")
    page.screenshot(path=screenshot_dir / "invalid.png", full_page=True)
    contact.refresh_from_db()
    assert contact.traits["orders"] == 3


def test_two_people_editing_the_same_field_second_sees_the_conflict(
    new_page, editor, manager, screenshot_dir
):
    contact = make_contact(name="Ajmal")
    first = new_page(editor)
    second = new_page(manager)
    for p in (first, second):
        p.goto(f"/contacts/{contact.pk}/")
        p.get_by_role("button", name="Edit Name").click()

    first.get_by_role("textbox", name="Name").fill("Abel")
    first.get_by_role("button", name="Save").click()
    expect(row(first, "name")).to_contain_text("Abel")

    second.get_by_role("textbox", name="Name").fill("Zed")
    second.get_by_role("button", name="Save").click()
    alert = second.get_by_role("alert").filter(has_text="changed by someone else")
    expect(alert).to_be_visible()
    expect(alert.locator(".conflict-current")).to_have_text("Abel")
    expect(second.get_by_role("textbox", name="Name")).to_have_value("Zed")
    second.screenshot(path=screenshot_dir / "conflict.png", full_page=True)
    contact.refresh_from_db()
    assert contact.name == "Abel"

    # Keeping theirs shows the current value; editing again from there and overwriting works.
    second.get_by_role("button", name="Keep current value").click()
    expect(row(second, "name")).to_contain_text("Abel")
    second.get_by_role("button", name="Edit Name").click()
    second.get_by_role("textbox", name="Name").fill("Zed")
    second.get_by_role("button", name="Save").click()
    expect(row(second, "name")).to_contain_text("Zed")
    contact.refresh_from_db()
    assert contact.name == "Zed"

    # The first person opens the editor (it shows "Zed"); someone changes it meanwhile; the
    # save meets the conflict, and "Overwrite with mine" wins.
    first.get_by_role("button", name="Edit Name").click()
    expect(first.get_by_role("textbox", name="Name")).to_have_value("Zed")
    services.contact_field_update(
        actor=Actor.web(manager), contact_id=contact.pk, field_key="name", value="Yara"
    )
    first.get_by_role("textbox", name="Name").fill("Abel again")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".conflict-current")).to_have_text("Yara")
    first.get_by_role("button", name="Overwrite with mine").click()
    expect(row(first, "name")).to_contain_text("Abel again")
    contact.refresh_from_db()
    assert contact.name == "Abel again"


def test_keyboard_only_tab_to_the_pencil_enter_type_enter(page, screenshot_dir):
    contact = make_contact(name="Ajmal")
    page.goto(f"/contacts/{contact.pk}/")
    page.locator("body").click(position={"x": 5, "y": 300})  # start from the page, not a field
    for _ in range(60):
        page.keyboard.press("Tab")
        label = page.evaluate("document.activeElement && document.activeElement.innerText")
        if label and label.strip() == "Edit Name":
            break
    else:
        pytest.fail("Tab never reached the Edit Name button")
    expect(page.get_by_role("button", name="Edit Name")).to_be_focused()
    page.screenshot(path=screenshot_dir / "pencil-focused.png")
    page.keyboard.press("Enter")
    expect(page.get_by_role("textbox", name="Name")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Abel")
    page.keyboard.press("Enter")
    expect(row(page, "name")).to_contain_text("Abel")
    expect(page.get_by_role("button", name="Edit Name")).to_be_focused()
    page.screenshot(path=screenshot_dir / "saved-by-keyboard.png")
    contact.refresh_from_db()
    assert contact.name == "Abel"


def test_switch_date_and_list_editors(browser, live_server, editor, screenshot_dir):
    for label, key, field_type in (
        ("Newsletter", "newsletter", "boolean"),
        ("Last order", "last_order", "datetime"),
        ("Interests", "interests", "list"),
    ):
        AttributeFactory(label=label, key=key, type=field_type)
    contact = make_contact(newsletter=False, last_order="2024-10-31", interests=["books"])
    # A browser in India: times are shown and entered in Asia/Kolkata, stored in UTC.
    context = browser.new_context(
        base_url=live_server.url,
        timezone_id="Asia/Kolkata",
        viewport={"width": 1400, "height": 900},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(editor.username)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"/contacts/{contact.pk}/")
    page.reload()  # the first page load set the time zone cookie

    page.get_by_role("button", name="Edit Newsletter").click()
    switch = page.get_by_role("switch", name="Newsletter")
    switch.check()
    switch.press("Enter")
    expect(row(page, "newsletter")).to_contain_text("Yes")

    page.get_by_role("button", name="Edit Last order").click()
    # Chromium names the zone by its older alias, Asia/Calcutta; both are the same zone.
    expect(page.get_by_label("Time zone")).to_have_value(re.compile(r"Asia/(Kolkata|Calcutta)"))
    page.get_by_label("Last order time").fill("19:30")
    page.screenshot(path=screenshot_dir / "datetime-editor.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(row(page, "last_order")).to_contain_text("2024-10-31 19:30 IST")

    page.get_by_role("button", name="Edit Interests").click()
    chips = page.get_by_role("textbox", name="Interests")
    chips.fill("music")
    chips.press("Enter")
    chips.fill("art")
    chips.press(",")
    page.get_by_role("button", name="Remove books").click()
    page.screenshot(path=screenshot_dir / "chips.png", full_page=True)
    page.get_by_role("textbox", name="Interests").press("Enter")  # empty input: Enter saves
    expect(page.get_by_role("button", name="Edit Interests")).to_be_focused()
    expect(row(page, "interests")).to_contain_text("music")
    expect(row(page, "interests")).not_to_contain_text("books")

    contact.refresh_from_db()
    assert contact.traits == {
        "newsletter": True,
        "last_order": "2024-10-31T14:00:00Z",
        "interests": ["music", "art"],
    }
    context.close()


def test_new_attribute_and_tags(page, screenshot_dir):
    services.tag_create(name="VIP")
    contact = make_contact(name="Ajmal", tags=["Cold Lead"])
    page.goto(f"/contacts/{contact.pk}/")

    page.get_by_role("button", name="+ Add Field").click()
    page.get_by_label("Field", exact=True).select_option(label="New field…")
    expect(page.get_by_label("New field's label")).to_be_focused()
    page.get_by_label("New field's label").fill("Lifetime value")
    page.get_by_label("Type").select_option(label="Number")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("textbox", name="Lifetime value").fill("2500")
    page.get_by_role("button", name="Save").click()
    expect(row(page, "lifetime_value")).to_contain_text("2,500")
    assert Attribute.objects.get(key="lifetime_value").type == "number"

    # Clearing it removes the row (and the trait), not the attribute.
    page.get_by_role("button", name="Edit Lifetime value").click()
    page.get_by_role("button", name="Remove from contact").click()
    expect(row(page, "lifetime_value")).to_have_count(0)
    expect(page.get_by_role("button", name="+ Add Field")).to_be_focused()
    assert "lifetime_value" not in Contact.objects.get(pk=contact.pk).traits
    assert Attribute.objects.filter(key="lifetime_value").exists()

    tag_input = page.get_by_role("combobox", name="Add a tag")
    tag_input.fill("vi")
    suggestion = page.get_by_role("button", name="VIP", exact=True)
    expect(suggestion).to_be_visible()
    page.screenshot(path=screenshot_dir / "tag-suggestions.png", full_page=True)
    suggestion.click()
    expect(page.locator("#contact-tags .tag-chip", has_text="VIP")).to_be_visible()

    tag_input = page.get_by_role("combobox", name="Add a tag")
    # The tags came back as a new fragment: once htmx has set it up, the input has the focus.
    expect(tag_input).to_be_focused()
    tag_input.fill("Brand New")
    tag_input.press("Enter")
    expect(page.locator("#contact-tags .tag-chip", has_text="Brand New")).to_be_visible()
    page.get_by_role("button", name="Remove tag Cold Lead").click()
    expect(page.locator("#contact-tags .tag-chip", has_text="Cold Lead")).to_have_count(0)
    expect(page.locator(".timeline-entry").first).to_contain_text(re.compile("Tags removed"))
    page.screenshot(path=screenshot_dir / "tags.png", full_page=True)

    contact = Contact.objects.get(pk=contact.pk)
    assert sorted(contact.tags.values_list("name", flat=True)) == ["Brand New", "VIP"]


def test_viewer_sees_no_pencils(new_page, viewer, screenshot_dir):
    contact = make_contact(name="Ajmal")
    page = new_page(viewer)
    page.goto(f"/contacts/{contact.pk}/")
    expect(page.get_by_role("heading", name="Ajmal")).to_be_visible()
    expect(page.locator(".field-edit")).to_have_count(0)
    expect(page.get_by_role("button", name="+ Add Field")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "viewer.png", full_page=True)


def test_escape_straight_after_the_editor_opens_still_cancels(page):
    contact = make_contact(name="Ajmal")
    page.goto(f"/contacts/{contact.pk}/")
    # Hold htmx's settle step (when it binds new content) to make a fast key press certain.
    page.evaluate("htmx.config.defaultSettleDelay = 3000")

    page.get_by_role("button", name="Edit Name").click()
    page.get_by_role("textbox", name="Name").fill("Something else")
    page.get_by_role("textbox", name="Name").press("Escape")
    expect(row(page, "name")).to_contain_text("Ajmal", timeout=2000)
    expect(page.get_by_role("textbox", name="Name")).to_have_count(0)
    contact.refresh_from_db()
    assert contact.name == "Ajmal" and contact.version == 1

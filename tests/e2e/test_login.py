import pytest
from playwright.sync_api import expect

from tests.factories import make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_login_lands_on_contacts_page(new_page, editor, screenshot_dir):
    make_contact(name="Ajmal", phone_number="9876543210")
    page = new_page()
    page.goto("/")
    assert "/accounts/login/" in page.url  # every page needs login
    page.get_by_label("Username").fill(editor.username)
    page.get_by_label("Password").fill("pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Contacts").wait_for()
    expect(page.get_by_text("Ajmal")).to_be_visible()
    page.screenshot(path=screenshot_dir / "contacts.png", full_page=True)

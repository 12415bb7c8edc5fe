"""Undoing an upload from its page, and restoring a value from a contact's timeline."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from bulkupload import services as upload_services
from contacts.models import Contact
from contacts.services import Actor, contact_field_update
from tests.factories import make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_undo_an_upload_with_one_contact_edited_in_between(
    page, editor, manager, tmp_path, screenshot_dir, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_contact(phone_number="9876500003", name="Old Mira")
    text = "Name,Phone,Country Code\nAsha,9876500001,91\nRavi,9876500002,91\nMira,9876500003,91\n"
    job = upload_services.upload_job_create(
        user=editor, file=ContentFile(text.encode(), name="expo.csv"), name="expo.csv"
    )
    job = upload_services.upload_job_confirm(job=job, user=editor)  # runs at commit
    ravi = Contact.objects.get(phone="+919876500002")
    contact_field_update(
        actor=Actor.web(manager), contact_id=ravi.pk, field_key="name", value="Ravi K"
    )

    page.goto(f"/uploads/{job.pk}/")
    page.get_by_role("link", name="Undo this upload…").click()
    expect(page.get_by_test_id("preview-created")).to_have_text("2")
    expect(page.get_by_test_id("preview-updated")).to_have_text("1")
    expect(page.get_by_test_id("preview-changed-since")).to_have_text("1")
    page.screenshot(path=screenshot_dir / "1-preview.png", full_page=True)
    page.get_by_role("button", name="Undo this upload").click()

    expect(page.get_by_test_id("undo-status")).to_have_text("Completed")
    expect(page.get_by_test_id("undo-deleted")).to_have_text("1")
    expect(page.get_by_test_id("undo-restored")).to_have_text("1")
    kept = page.get_by_test_id("undo-kept-list")
    expect(kept).to_contain_text("the whole contact")
    expect(kept).to_contain_text(manager.username)
    page.screenshot(path=screenshot_dir / "2-undone.png", full_page=True)
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["Old Mira", "Ravi K"]

    page.get_by_role("link", name="Back to the upload").click()
    expect(page.get_by_test_id("undone")).to_contain_text("Undone on")


def test_restore_a_value_from_the_timeline(page, manager, screenshot_dir):
    contact = make_contact(name="Asha")
    contact_field_update(
        actor=Actor.web(manager), contact_id=contact.pk, field_key="name", value="Asha K"
    )
    page.goto(f"/contacts/{contact.pk}/")
    page.get_by_test_id("restore-name").first.click()
    expect(page.locator("#contact-heading")).to_have_text("Asha")
    expect(page.locator(".timeline-entry").first).to_contain_text("Asha K")
    page.screenshot(path=screenshot_dir / "1-restored.png", full_page=True)

    # Restoring the manager's change again is refused: the name is no longer "Asha K".
    page.locator(".timeline-entry").nth(1).get_by_test_id("restore-name").click()
    expect(page.get_by_test_id("restore-error")).to_have_text(
        "Name was not restored: it changed since, and is now Asha."
    )
    page.screenshot(path=screenshot_dir / "2-refused.png", full_page=True)
    contact.refresh_from_db()
    assert contact.name == "Asha"

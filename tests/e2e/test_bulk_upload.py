"""Walk the upload wizard in Chromium with a messy file, then check the result and report."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from bulkupload.models import UploadJob
from contacts.models import Contact
from tests.factories import TagFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Windows-1252, semicolons, a quoted newline, Excel damage, a duplicate, bad values, a blank row.
MESSY = (
    "Full Name;Phone Number;Country Code;Email Address;WhatsApp Opted;Ciudad;Joined\r\n"
    "José Pérez;9876500001;91;jose@example.com;TRUE;Málaga;2024-10-31\r\n"
    "Zoë;'+919876500002;;zoe@example.com;FALSE;Köln;2024-10-31T19:30:00+05:30\r\n"
    "Zoë again;9876500002;+91;;TRUE;;\r\n"
    "Shortened;9.87654E+09;91;;;;\r\n"
    '"Two\r\nlines";9876500003;91;not-an-email;;;\r\n'
    ";;;;;;\r\n"
    "Old friend;9876500004;91;;yes;Pune;2024-11-01\r\n"
).encode("cp1252")


def test_messy_file_through_the_wizard(
    page, editor, live_server, tmp_path, screenshot_dir, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    TagFactory(name="Lead", is_default=True)
    TagFactory(name="Diwali Sale")
    make_contact(phone_number="9876500004", name="Old friend", tags=["diwali sale"])
    csv_path = tmp_path / "messy export.csv"
    csv_path.write_bytes(MESSY)

    page.goto("/uploads/")
    page.get_by_role("link", name="Upload a CSV file").click()
    page.locator("input[type=file]").set_input_files(csv_path)
    expect(page.get_by_text("messy export.csv")).to_be_visible()
    page.screenshot(path=screenshot_dir / "1-upload.png", full_page=True)
    page.get_by_role("button", name="Upload and continue").click()

    page.get_by_role("heading", name="Map columns").wait_for()
    assert page.get_by_test_id("detected-encoding").inner_text() == "Windows-1252"
    assert page.get_by_test_id("detected-delimiter").inner_text() == "Semicolon (;)"
    assert page.get_by_label("Import “Full Name” as").input_value() == "field:name"
    assert page.get_by_label("Import “Phone Number” as").input_value() == "field:phone"
    assert page.get_by_label("Import “WhatsApp Opted” as").input_value() == "field:whatsapp_opted"
    assert page.get_by_label("Import “Ciudad” as").input_value() == "new"
    page.get_by_label("New field name for “Ciudad”").fill("City")
    page.get_by_label("Type of “Joined”").select_option("datetime")
    preview = page.locator("#preview")
    preview.get_by_text("looks like a number a spreadsheet shortened").wait_for()
    expect(preview.get_by_text("not a valid email address")).to_be_visible()
    expect(preview.get_by_text("2024-10-31T14:00:00Z")).to_be_visible()
    page.screenshot(path=screenshot_dir / "2-map.png", full_page=True)
    # Without a phone column the wizard does not go on.
    page.get_by_label("Import “Phone Number” as").select_option("skip")
    page.get_by_role("button", name="Continue to tags").click()
    page.get_by_text("Map a column to Phone to continue").wait_for()
    page.get_by_label("Import “Phone Number” as").select_option("field:phone")
    page.get_by_label("New field name for “Ciudad”").fill("City")
    page.get_by_label("Type of “Joined”").select_option("datetime")
    page.get_by_role("button", name="Continue to tags").click()

    page.get_by_role("heading", name="Tags").wait_for()
    page.get_by_label("Lead").check()
    page.get_by_role("button", name="+ See More").click()
    dialog = page.get_by_role("dialog", name="More tags")
    dialog.get_by_label("Search tags").fill("DIWALI")
    dialog.get_by_role("button", name="Add tag Diwali Sale").click()
    page.locator("#chosen-tags").get_by_text("Diwali Sale").wait_for()
    dialog.get_by_label("Create a tag").fill("Expo 2026")
    dialog.get_by_role("button", name="Save tag").click()
    page.locator("#chosen-tags").get_by_text("Expo 2026").wait_for()
    page.screenshot(path=screenshot_dir / "3-tags-popup.png", full_page=True)
    dialog.get_by_role("button", name="Done").click()
    dialog.wait_for(state="hidden")
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "3-tags.png", full_page=True)
    page.get_by_role("button", name="Continue to review").click()

    page.get_by_role("heading", name="Review and confirm").wait_for()
    assert "about 1 contact" in page.get_by_test_id("estimate-update").inner_text()
    expect(page.get_by_text("New fields to create: City (text), Joined (datetime)")).to_be_visible()
    page.screenshot(path=screenshot_dir / "4-review.png", full_page=True)
    page.get_by_role("button", name="Confirm and import").click()

    page.get_by_test_id("job-status").filter(has_text="Completed").wait_for()
    totals = {
        key: int(page.get_by_test_id(f"total-{key}").inner_text())
        for key in ("rows", "created", "updated", "unchanged", "skipped", "failed")
    }
    assert totals == {
        "rows": 7,
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "skipped": 2,
        "failed": 2,
    }
    assert sum(totals.values()) - totals["rows"] == totals["rows"]
    page.screenshot(path=screenshot_dir / "5-result.png", full_page=True)
    link = page.get_by_role("link", name="View the contacts of this upload")
    job = UploadJob.objects.get()
    assert link.get_attribute("href") == f"/?upload={job.pk}"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download error report (4 rows)").click()
    report = download_info.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0][:4] == ["Row", "Outcome", "Reason", "Full Name"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("4", "skipped"),
        ("5", "failed"),
        ("6", "failed"),
        ("7", "skipped"),
    ]
    assert rows[3][3] == "Two\r\nlines" and "Email" in rows[3][2]

    jose = Contact.objects.get(phone="+919876500001")
    assert (jose.name, jose.traits) == ("José Pérez", {"city": "Málaga", "joined": "2024-10-31"})
    assert sorted(t.name for t in jose.tags.all()) == ["Diwali Sale", "Expo 2026", "Lead"]
    old = Contact.objects.get(phone="+919876500004")
    assert old.whatsapp_opted is True and old.traits["city"] == "Pune"

    page.goto("/uploads/")
    page.get_by_role("link", name="messy export.csv").wait_for()
    page.screenshot(path=screenshot_dir / "6-uploads.png", full_page=True)

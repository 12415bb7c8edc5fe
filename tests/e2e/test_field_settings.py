"""Settings > Fields in a real browser: rename a field, preview and apply a kind change."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contacts.models import Attribute, Contact, FieldChangeLeftover
from tests.factories import AttributeFactory, make_contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rename_a_field_and_change_its_kind_after_a_preview(new_page, manager, screenshot_dir):
    AttributeFactory(label="Score", key="score", type="text")
    AttributeFactory(label="City", key="city", type="text")
    good = [make_contact(name=f"Good {n}", score=str(n * 10), city="Pune") for n in range(3)]
    bad = make_contact(name="Bad", score="lots")
    page = new_page(manager)

    page.goto("/")
    page.get_by_role("link", name="Fields", exact=True).click()
    table = page.get_by_test_id("fields-table")
    expect(table.locator('tr[data-field="score"]')).to_contain_text("Text")
    expect(table.locator('tr[data-field="score"] td.text-end')).to_have_text("4")
    page.screenshot(path=screenshot_dir / "1-fields.png", full_page=True)

    table.get_by_role("link", name="Score").click()
    page.get_by_label("Label").fill("Lead score")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_test_id("field-title")).to_have_text("Lead score")

    page.get_by_label("New kind").select_option("number")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("kind-preview")
    expect(preview.get_by_test_id("unconverted-count")).to_have_text("1")
    expect(preview).to_contain_text(f"Contact #{bad.pk}: expected a number")
    expect(preview.get_by_role("link", name=f"Contact #{bad.pk}")).to_be_visible()
    page.screenshot(path=screenshot_dir / "2-preview.png", full_page=True)
    with page.expect_download() as download:
        preview.get_by_test_id("unconverted-csv").click()
    csv_text = download.value.path().read_text(encoding="utf-8-sig")
    assert f"{bad.pk},{bad.phone},,lots,expected a number" in csv_text

    page.get_by_test_id("apply-kind").click()
    expect(page.get_by_test_id("field-kind")).to_have_text("Number")  # the job has run
    expect(page.get_by_test_id("field-history")).to_contain_text("1 not converted (CSV)")
    page.screenshot(path=screenshot_dir / "3-changed.png", full_page=True)

    attribute = Attribute.objects.get(key="score")
    assert (attribute.label, attribute.type) == ("Lead score", "number")
    assert [Contact.objects.get(pk=c.pk).traits["score"] for c in good] == [0, 10, 20]
    assert "score" not in Contact.objects.get(pk=bad.pk).traits
    assert FieldChangeLeftover.objects.get().value == "lots"

"""The Overview in Chromium: charts render under the CSP, and a bar opens the matching list."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import make_contact
from tests.overview.conftest import Book, fill_book, make_stale

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """Screenshots go to the temporary directory, to be looked at, never into the repo."""
    path = Path(tempfile.gettempdir()) / "contacthub-screens" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


def csp_problems(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_overview_bar_opens_the_list_with_the_same_count(new_page, viewer, shots):
    fill_book(Book())
    page = new_page(viewer)
    problems = csp_problems(page)
    page.goto("/")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=shots / "1-overview.png", full_page=True)

    # The "VIP" bar of the tags chart: two contacts carry the tag.
    bar = page.locator("#tags-chart a[href*='tags%3Aany%3AVIP']")
    expect(bar).to_have_count(1)
    bar.locator("rect").click()
    expect(page).to_have_url(re.compile(r"f=tags%3Aany%3AVIP"))
    expect(page.locator("#list-count")).to_have_text("2 matching")
    page.screenshot(path=shots / "2-list-from-tag-bar.png", full_page=True)

    # A day of the per-day chart: today's bar holds the one contact created today.
    page.go_back()
    today = page.locator("#per-day-chart .series a").last
    href = today.get_attribute("href")
    today.locator("rect").click()
    page.wait_for_url(f"**{href}")
    expect(page.locator("#list-count")).to_have_text("1 matching")
    assert problems == []


def test_upload_result_chart_opens_the_upload_list(new_page, editor, shots):
    book = fill_book(Book())
    job = book.jobs[0]
    page = new_page(editor)
    problems = csp_problems(page)
    page.goto(f"/uploads/{job.pk}/")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=shots / "1-upload-result.png", full_page=True)
    page.locator("#upload-outcome-chart a").first.locator("rect").click()
    expect(page).to_have_url(re.compile(rf"upload={job.pk}"))
    expect(page.locator("#list-count")).to_have_text("3 matching")
    assert problems == []


def test_a_stale_overview_is_served_and_recounted_for_the_next_view(new_page, viewer, shots):
    """The test settings run a queued task at once: the recount is stored before the reload."""
    fill_book(Book())
    page = new_page(viewer)
    page.goto("/overview/")
    contacts = page.get_by_test_id("total").first
    expect(contacts).to_have_attribute("data-count", "7")
    make_contact(name="Later")
    make_stale()
    page.reload()
    note = page.get_by_test_id("counted-at")
    expect(note).to_contain_text("a recount is under way")
    expect(contacts).to_have_attribute("data-count", "7")
    page.screenshot(path=shots / "1-stale.png", full_page=True)
    page.reload()
    expect(note).to_contain_text("again every 5 minutes")
    expect(contacts).to_have_attribute("data-count", "8")

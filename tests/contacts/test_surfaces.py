"""One value of every kind reads the same on every surface that shows it.

People read values in the list, on the contact page and in its timeline (in their own time
zone, the ``tz`` cookie); machines read the CSV export and the API, which give the export
form, the one the importer reads back.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from contacts.api_keys import api_key_create
from contacts.fields import BUILTIN_BY_KEY, field_registry
from contacts.models import Contact, ListPreference
from tests.api.conftest import ApiClient
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db
KOLKATA = ZoneInfo("Asia/Kolkata")

# key -> (stored value, what people read in Asia/Kolkata, the export cell)
VALUES: dict[str, tuple[Any, str, str]] = {
    "city": ("Pune", "Pune", "Pune"),
    "orders": (1234567, "1,234,567", "1234567"),
    "score": (1234.5, "1,234.5", "1234.5"),
    "newsletter": (True, "Yes", "TRUE"),
    "last_order": ("2024-10-31T14:00:00Z", "2024-10-31 19:30 IST", "2024-10-31T14:00:00Z"),
    "birthday": ("0999-05-05", "0999-05-05", "0999-05-05"),
    "interests": (["books", "music"], "books, music", "books;music"),
}
BUILTIN = {
    "name": ("Asha", "Asha", "Asha"),
    "email": ("asha@example.com", "asha@example.com", "asha@example.com"),
    "whatsapp_opted": (True, "Yes", "TRUE"),
    "tags": (["Lead", "VIP"], "Lead, VIP", "Lead;VIP"),
}


class Readable(HTMLParser):
    """What a person reads in a piece of HTML: chips (``.chip``, ``.tag-chip``) as their
    items joined with ", ", else the text with spaces collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.chips: list[str] = []
        self.open_tags: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "br", "img"):
            return
        chip = bool({"chip", "tag-chip"} & set((dict(attrs).get("class") or "").split()))
        self.open_tags.append((tag, chip))
        if chip:
            self.chips.append("")

    def handle_endtag(self, tag: str) -> None:
        while self.open_tags and self.open_tags.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if any(chip for _, chip in self.open_tags):
            self.chips[-1] += data
        else:
            self.text.append(data)


def readable(fragment: str) -> str:
    parser = Readable()
    parser.feed(fragment)
    if parser.chips:
        return ", ".join(c.strip() for c in parser.chips)
    return " ".join("".join(parser.text).split())


def list_cell(html: str, key: str) -> str:
    """The first row's cell under the column of ``key`` (cells carry their field's key)."""
    head, body = html.split("<tbody>", 1)
    assert f'data-field="{key}"' in head, key
    row = body.split("</tr>", 1)[0]
    found = re.search(rf'<td data-field="{re.escape(key)}">(.*?)</td>', row, re.S)
    assert found, key
    return readable(found.group(1))


def page_value(html: str, key: str) -> str:
    row = html.split(f'id="field-{key}"', 1)[1]
    found = re.search(
        r'<div class="field-value[^"]*">(.*?)</div>\s*<div class="field-actions', row, re.S
    )
    assert found, key
    return readable(found.group(1))


@pytest.fixture
def asha(db) -> Contact:
    AttributeFactory(label="City", key="city", type="text")
    AttributeFactory(label="Orders", key="orders", type="number")
    AttributeFactory(label="Score", key="score", type="number")
    AttributeFactory(label="Newsletter", key="newsletter", type="boolean")
    AttributeFactory(label="Last order", key="last_order", type="datetime")
    AttributeFactory(label="Birthday", key="birthday", type="datetime")
    AttributeFactory(label="Interests", key="interests", type="list")
    values = {key: stored for key, (stored, _, _) in {**VALUES, **BUILTIN}.items()}
    tags = values.pop("tags")
    return make_contact(phone_number="9876543210", tags=tags, **values)


@pytest.fixture
def kolkata_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    client.cookies["tz"] = "Asia%2FKolkata"
    return client


def test_people_read_the_same_text_in_the_list_the_page_and_the_timeline(
    kolkata_client, manager, asha
):
    every = {**VALUES, **BUILTIN}
    ListPreference.objects.create(user=manager, columns=list(every))
    listed = kolkata_client.get("/").content.decode()
    page_html = kolkata_client.get(f"/contacts/{asha.pk}/").content.decode()
    tags_section = page_html.split('id="contact-tags"')[1].split("</section>")[0]
    timeline = {
        label: new.strip()
        for label, new in re.findall(
            r'change-label">([^<]*):</span>.*?change-new">([^<]*)</span>', page_html
        )
    }
    registry = field_registry()
    for key, (stored, expected, _) in every.items():
        field = registry[key]
        assert list_cell(listed, key) == expected, key
        assert field.display(stored, KOLKATA) == expected, key
        if key == "tags":
            chips = re.findall(r'tag-chip"><span>([^<]*)</span>', tags_section)
            assert ", ".join(chips) == expected
            continue
        assert page_value(page_html, key) == expected, key
        assert timeline[field.label].replace("&#x27;", "'") == expected, key


def test_machines_read_the_export_form_in_the_csv_and_the_api(kolkata_client, manager, asha):
    every = {**VALUES, **BUILTIN}
    ListPreference.objects.create(user=manager, columns=list(every))
    response = kolkata_client.get("/list/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    exported = dict(zip(header, row, strict=True))
    registry = field_registry()
    for key, (_, _, cell) in every.items():
        field = registry[key]
        assert exported[field.label] == cell, key
        assert field.export(field.parse(cell)) == cell, key  # the importer reads it back

    api = ApiClient(api_key_create(name="Shop", created_by=manager).secret)
    customer = api.users({}).json()["data"]["customers"][0]
    for key, (_, _, cell) in VALUES.items():
        field = registry[key]
        assert field.export(customer["traits"][field.label]) == cell, key
    assert customer["tags"] == ["Lead", "VIP"]


def test_admin_shows_the_stored_values_the_api_gives(admin_client_, asha):
    admin_client_.cookies["tz"] = "Asia/Kolkata"
    page = admin_client_.get(f"/admin/contacts/contact/{asha.pk}/change/").content.decode()
    created = BUILTIN_BY_KEY["created_at"].display(asha.created_at, KOLKATA)
    assert created.endswith(" IST") and created in page
    traits_json = re.search(r"<textarea[^>]*name=\"traits\"[^>]*>(.*?)</textarea>", page, re.S)
    assert traits_json is not None
    shown = json.loads(traits_json.group(1).replace("&quot;", '"'))
    assert shown == {key: stored for key, (stored, _, _) in VALUES.items()}


@pytest.mark.parametrize(
    ("zone", "stored", "shown"),
    [
        ("Asia/Kolkata", "9999-12-31T23:00:00Z", "9999-12-31 23:00 UTC"),
        ("America/New_York", "0001-01-01T01:00:00Z", "0001-01-01 01:00 UTC"),
    ],
)
def test_moments_at_the_ends_of_the_calendar_show_in_utc_everywhere(
    kolkata_client, manager, zone, stored, shown
):
    AttributeFactory(label="Renewal", key="renewal", type="datetime")
    contact = make_contact(renewal=stored)
    kolkata_client.cookies["tz"] = zone
    ListPreference.objects.create(user=manager, columns=["name", "renewal"])
    assert list_cell(kolkata_client.get("/").content.decode(), "renewal") == shown
    page = kolkata_client.get(f"/contacts/{contact.pk}/")
    assert page.status_code == 200
    assert page_value(page.content.decode(), "renewal") == shown
    editor = kolkata_client.get(f"/contacts/{contact.pk}/fields/renewal/edit/")
    assert editor.status_code == 200
    assert 'name="tz" value="UTC"' in editor.content.decode()
    timeline = kolkata_client.get(f"/contacts/{contact.pk}/activity/")
    assert timeline.status_code == 200 and shown in timeline.content.decode()

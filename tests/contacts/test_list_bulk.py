"""Bulk actions, CSV export (with its round trip) and the new-contact form."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from contacts import services
from contacts.csv_cells import neutralise_cell
from contacts.fields import field_registry
from contacts.models import Activity, Contact, FieldType, ListPreference
from contacts.services import Actor
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

BULK = reverse("contacts:list-bulk")
EXPORT = reverse("contacts:list-export")
HTMX = {"HTTP_HX_REQUEST": "true"}


def tag_names(contact: Contact) -> set[str]:
    return {t.name for t in contact.tags.all()}


def test_confirmation_names_the_count_of_selected_rows(editor_client):
    a, b, _ = make_contact(name="A"), make_contact(name="B"), make_contact(name="C")
    html = editor_client.get(
        BULK, {"action": "tags_add", "ids": [a.pk, b.pk]}, **HTMX
    ).content.decode()
    assert "Add tags to <strong>2 contacts</strong> (the selected rows)" in html


def test_confirmation_without_selection_counts_every_matching_contact(editor_client):
    make_contact(name="Asha")
    make_contact(name="Ashok")
    make_contact(name="Bala")
    html = editor_client.get(BULK, {"action": "tags_add", "q": "ash"}, **HTMX).content.decode()
    assert "<strong>2 contacts</strong> (every contact matching the list)" in html
    assert 'name="q" value="ash"' in html  # the confirmation carries the list's state


def test_add_tags_to_selected_rows(editor_client, editor):
    a, b, c = make_contact(name="A", tags=["vip"]), make_contact(name="B"), make_contact(name="C")
    response = editor_client.post(
        BULK, {"action": "tags_add", "ids": [a.pk, b.pk], "tags": "VIP, Lead"}, **HTMX
    )
    assert response.status_code == 200  # django-htmx HttpResponseClientRedirect
    assert response["HX-Redirect"] == reverse("contacts:list")
    assert tag_names(a) == {"vip", "Lead"}  # existing tag kept as written, case-insensitive
    assert tag_names(b) == {"VIP", "Lead"} or tag_names(b) == {"vip", "Lead"}
    assert tag_names(c) == set()
    entry = Activity.objects.filter(contact=a).latest("id")
    assert entry.changes == {"fields": {}, "tags_added": ["Lead"]}
    assert entry.actor_user == editor and entry.source == "web"
    a.refresh_from_db()
    assert a.version == 2


def test_add_tags_to_all_matching_keeps_the_filter(editor_client):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    pune = [make_contact(name=f"P{i}", city="Pune") for i in range(3)]
    other = make_contact(name="M", city="Mumbai")
    response = editor_client.post(
        BULK, {"action": "tags_add", "f": "city:eq:pune", "all": "on", "tags": "Pune list"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("contacts:list") + "?f=city%3Aeq%3Apune"
    assert all(tag_names(c) == {"Pune list"} for c in pune)
    assert tag_names(other) == set()


def test_bulk_tag_add_is_set_based(editor, django_assert_max_num_queries):
    contacts = [make_contact(name=f"C{i}") for i in range(60)]
    services.BULK_CHUNK, old = 25, services.BULK_CHUNK
    try:
        with django_assert_max_num_queries(25):  # 3 chunks x 5 queries + tags lookups
            changed = services.contacts_tags_add_bulk(
                actor=Actor.web(editor),
                contacts=Contact.objects.all(),
                names=["Bulk", "More"],
            )
    finally:
        services.BULK_CHUNK = old
    assert changed == 60
    assert Activity.objects.filter(changes__tags_added=["Bulk", "More"]).count() == 60
    assert all(tag_names(c) == {"Bulk", "More"} for c in contacts)
    # Adding again changes nothing and records nothing.
    before = Activity.objects.count()
    assert (
        services.contacts_tags_add_bulk(
            actor=Actor.web(editor), contacts=[c.pk for c in contacts], names=["bulk"]
        )
        == 0
    )
    assert Activity.objects.count() == before


def test_remove_tags_from_selected_rows(editor_client):
    a = make_contact(name="A", tags=["VIP", "Lead"])
    b = make_contact(name="B", tags=["Lead"])
    response = editor_client.post(
        BULK, {"action": "tags_remove", "ids": [a.pk, b.pk], "tags": "vip"}, **HTMX
    )
    assert response.status_code == 200
    assert tag_names(a) == {"Lead"} and tag_names(b) == {"Lead"}
    assert Activity.objects.filter(contact=a).latest("id").changes == {
        "fields": {},
        "tags_removed": ["VIP"],
    }
    assert not Activity.objects.filter(contact=b, changes__has_key="tags_removed").exists()


def test_tag_action_without_tags_shows_an_error(editor_client):
    a = make_contact(name="A")
    response = editor_client.post(BULK, {"action": "tags_add", "ids": [a.pk], "tags": " "}, **HTMX)
    assert response.status_code == 200
    assert "Give at least one tag." in response.content.decode()
    assert tag_names(a) == set()


def test_viewer_cannot_tag_and_editor_cannot_delete(viewer_client, editor_client):
    a = make_contact(name="A")
    assert (
        viewer_client.post(BULK, {"action": "tags_add", "ids": [a.pk], "tags": "x"}).status_code
        == 403
    )
    assert editor_client.get(BULK, {"action": "delete", "ids": [a.pk]}).status_code == 403
    assert editor_client.post(BULK, {"action": "delete", "ids": [a.pk]}).status_code == 403
    assert Contact.objects.filter(pk=a.pk).exists()


def test_manager_delete_confirms_with_count_then_deletes(manager_client):
    keep = make_contact(name="Keep")
    gone = [make_contact(name=f"Gone {i}") for i in range(2)]
    html = manager_client.get(BULK, {"action": "delete", "q": "gone"}, **HTMX).content.decode()
    assert "Delete <strong>2 contacts</strong>" in html
    assert "Delete 2 contacts</button>" in html.replace("\n", "").replace("  ", "") or (
        "Delete 2 contacts" in html
    )
    response = manager_client.post(BULK, {"action": "delete", "q": "gone", "all": "on"}, **HTMX)
    assert response.status_code == 200
    assert list(Contact.objects.all()) == [keep]
    assert not Contact.objects.filter(pk__in=[g.pk for g in gone]).exists()


# --- Export --------------------------------------------------------------------------------
def read_export(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_export_streams_visible_columns_of_matching_contacts(viewer_client, viewer):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    ListPreference.objects.create(user=viewer, columns=["name", "score", "tags"])
    make_contact(name="Asha", phone_number="9876543210", score=12, tags=["VIP", "Lead"])
    make_contact(name="Bala", phone_number="9123456780", score=3)
    response = viewer_client.get(EXPORT, {"f": "score:gt:5"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = read_export(response)
    assert rows == [
        {"Phone": "+919876543210", "User id": "", "Name": "Asha", "Score": "12", "Tags": "Lead;VIP"}
    ] or rows == [
        {"Phone": "+919876543210", "User id": "", "Name": "Asha", "Score": "12", "Tags": "VIP;Lead"}
    ]


def test_export_of_selected_ids_only(viewer_client):
    a = make_contact(name="Asha")
    make_contact(name="Bala")
    rows = read_export(viewer_client.get(EXPORT, {"ids": [a.pk]}))
    assert [r["Name"] for r in rows] == ["Asha"]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+919876543210", "+919876543210"),
        ("-12.5", "-12.5"),
        ("42", "42"),
        ("Asha", "Asha"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised_but_numbers_and_phones_are_not(cell, safe):
    assert neutralise_cell(cell) == safe


def test_export_then_reimport_changes_nothing(viewer_client, viewer):
    for key, label, type_ in (
        ("city", "City", FieldType.TEXT),
        ("score", "Score", FieldType.NUMBER),
        ("vip", "VIP", FieldType.BOOLEAN),
        ("renewal", "Renewal", FieldType.DATETIME),
        ("interests", "Interests", FieldType.LIST),
    ):
        AttributeFactory(key=key, label=label, type=type_)
    ListPreference.objects.create(
        user=viewer,
        columns=[
            "name",
            "phone",
            "email",
            "user_id",
            "whatsapp_opted",
            "tags",
            "city",
            "score",
            "vip",
            "renewal",
            "interests",
            "created_at",
        ],
    )
    make_contact(
        name="Asha Rao",
        phone_number="9876543210",
        email="asha@example.com",
        user_id="crm-1",
        whatsapp_opted=True,
        tags=["VIP", "Lead"],
        city="Pune",
        score=-12.5,
        vip=False,
        renewal="2024-10-31T14:00:00Z",
        interests=["Cricket", "Music"],
    )
    make_contact(name="Bala", phone_number="9123456780", score=100, renewal="2024-10-31")
    make_contact(name="No phone", user_id="crm-2", phone_number=None)
    before = {c.pk: (c.version, c.traits, c.name, c.email) for c in Contact.objects.all()}
    activity_count = Activity.objects.count()

    rows = read_export(viewer_client.get(EXPORT))
    assert len(rows) == 3
    registry = field_registry()
    for row in rows:  # what the importer does with each row: match by user id, else phone
        values = {}
        for header, cell in row.items():
            target = registry.resolve(header)
            if cell == "" or not target.editable or target.key in ("phone", "user_id"):
                continue
            values[header] = cell
        result = services.contact_upsert(
            actor=Actor.system(),
            user_id=row["User id"] or None,
            phone_number=row["Phone"] or None,
            values=values,
        )
        assert not result.created and not result.changed, row
    after = {c.pk: (c.version, c.traits, c.name, c.email) for c in Contact.objects.all()}
    assert after == before
    assert Activity.objects.count() == activity_count


# --- New contact ---------------------------------------------------------------------------
NEW = reverse("contacts:new")


def test_new_contact_form_lists_custom_attributes(editor_client):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    html = editor_client.get(NEW).content.decode()
    assert 'name="trait__city"' in html
    assert 'value="91"' in html  # default country code from the default region


def test_new_contact_is_created_through_the_services(editor_client, editor):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    response = editor_client.post(
        NEW,
        {
            "name": "Asha",
            "country_code": "+91",
            "phone_number": "98765 43210",
            "email": "asha@example.com",
            "whatsapp_opted": "on",
            "tags": "VIP, Lead",
            "trait__score": "42",
        },
    )
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", args=[contact.pk])
    assert contact.phone == "+919876543210" and contact.whatsapp_opted
    assert contact.traits == {"score": 42}
    assert tag_names(contact) == {"VIP", "Lead"}
    created = Activity.objects.get(contact=contact)
    assert created.kind == "created" and created.actor_user == editor


def test_new_contact_with_existing_phone_links_to_it(editor_client):
    existing = make_contact(name="Asha", phone_number="9876543210")
    response = editor_client.post(
        NEW, {"name": "Other", "country_code": "91", "phone_number": "+91 98765-43210"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "a contact with phone +919876543210 already exists" in html
    assert f'href="{reverse("contacts:detail", args=[existing.pk])}"' in html
    assert Contact.objects.count() == 1


def test_new_contact_bad_values_are_named(editor_client):
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    response = editor_client.post(
        NEW,
        {
            "name": "X",
            "country_code": "91",
            "phone_number": "12",
            "email": "nope",
            "trait__score": "lots",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Score: expected a number" in html
    assert "Phone number:" in html
    assert 'value="X"' in html  # nothing typed is lost
    assert not Contact.objects.exists()


def test_viewer_cannot_create_contacts(viewer_client):
    assert viewer_client.get(NEW).status_code == 403

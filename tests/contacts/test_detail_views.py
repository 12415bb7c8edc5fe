"""The contact page: field rows in display and edit state, saving, conflicts, permissions."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from contacts import services
from contacts.models import Activity, Attribute, Contact
from contacts.services import Actor
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def edit_url(contact: Contact, key: str) -> str:
    return f"/contacts/{contact.pk}/fields/{key}/edit/"


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def typed_attributes(db):
    return {
        "text": AttributeFactory(label="City", key="city", type="text"),
        "number": AttributeFactory(label="Orders", key="orders", type="number"),
        "boolean": AttributeFactory(label="Newsletter", key="newsletter", type="boolean"),
        "datetime": AttributeFactory(label="Last order", key="last_order", type="datetime"),
        "list": AttributeFactory(label="Interests", key="interests", type="list"),
    }


@pytest.fixture
def ajmal(db) -> Contact:
    return make_contact(name="Ajmal", phone_number="9876543210", email="ajmal@example.com")


# --- The page -------------------------------------------------------------------------------
def test_page_lists_builtin_fields_and_the_traits_the_contact_has(editor_client, typed_attributes):
    contact = make_contact(name="Ajmal", city="Pune", orders=3)
    page = html(editor_client.get(f"/contacts/{contact.pk}/"))
    for label in ("Name", "Phone", "Country code", "Email", "User id", "WhatsApp opted"):
        assert f'<div class="field-label">{label}</div>' in page
    assert "Pune" in page and 'id="field-orders"' in page
    # Traits the contact lacks are not rows but are offered by + Add Field.
    assert 'id="field-newsletter"' not in page
    assert "+ Add Field" in page


def test_each_editable_field_has_a_pencil_button_named_for_its_label(editor_client, ajmal):
    page = html(editor_client.get(f"/contacts/{ajmal.pk}/"))
    for label in ("Name", "Email", "User id", "WhatsApp opted"):
        assert f'<span class="visually-hidden">Edit {label}</span>' in page
    assert page.count('class="btn btn-sm btn-link field-edit"') == 4


def test_phone_and_country_code_have_no_pencil(editor_client, ajmal):
    page = html(editor_client.get(f"/contacts/{ajmal.pk}/"))
    assert "Edit Phone" not in page and "Edit Country code" not in page
    assert "+919876543210" in page
    assert "Phone cannot be changed" in page


def test_viewer_sees_the_page_without_pencils_or_editors(viewer_client, ajmal):
    response = viewer_client.get(f"/contacts/{ajmal.pk}/")
    page = html(response)
    assert response.status_code == 200
    assert "Ajmal" in page
    assert "field-edit" not in page
    assert "+ Add Field" not in page
    assert 'id="tag-input"' not in page


def test_unknown_contact_is_404(editor_client):
    assert editor_client.get("/contacts/999999/").status_code == 404
    assert editor_client.get("/contacts/999999/fields/name/edit/").status_code == 404


# --- Edit and display fragments per type ----------------------------------------------------
@pytest.mark.parametrize(
    ("key", "stored", "input_snippet", "display_snippet"),
    [
        ("city", "Pune", 'name="value" value="Pune"', "Pune"),
        ("orders", 1234, 'inputmode="decimal"', "1,234"),
        ("newsletter", True, 'role="switch"', "Yes"),
        ("last_order", "2024-10-31T14:00:00Z", 'type="date"', "2024-10-31 14:00 UTC"),
        ("interests", ["books", "music"], 'name="items" value="books"', '<li class="chip">music'),
    ],
)
def test_edit_and_display_fragments_for_every_type(
    editor_client, typed_attributes, key, stored, input_snippet, display_snippet
):
    contact = make_contact(**{key: stored})
    edit = editor_client.get(edit_url(contact, key), **HX)
    assert edit.status_code == 200
    assert input_snippet in html(edit)
    assert f'name="expected" value="{json.dumps(stored)}"'.replace('"', "&quot;")[:10]
    assert "<html" not in html(edit)  # only the row
    assert html(edit).lstrip().startswith('<form class="field-row is-editing"')
    display = editor_client.get(f"/contacts/{contact.pk}/fields/{key}/", **HX)
    assert display_snippet in html(display)
    assert f"Edit {typed_attributes[_type_of(key)].label}" in html(display)


def _type_of(key: str) -> str:
    return {
        "city": "text",
        "orders": "number",
        "newsletter": "boolean",
        "last_order": "datetime",
        "interests": "list",
    }[key]


def test_expected_value_travels_json_encoded(editor_client, typed_attributes):
    contact = make_contact(orders=5, interests=["a", "b"])
    orders = html(editor_client.get(edit_url(contact, "orders"), **HX))
    interests = html(editor_client.get(edit_url(contact, "interests"), **HX))
    assert 'name="expected" value="5"' in orders
    assert 'name="expected" value="[&quot;a&quot;, &quot;b&quot;]"' in interests


@pytest.mark.parametrize("cookie", ["", "Mars/Base", "../../etc/passwd", "x" * 300])
def test_unknown_time_zone_cookie_falls_back_to_the_site_zone(editor_client, ajmal, cookie):
    editor_client.cookies["tz"] = cookie
    response = editor_client.get(f"/contacts/{ajmal.pk}/")
    assert response.status_code == 200 and " UTC</time>" in html(response)


def test_datetime_editor_shows_the_time_in_the_viewers_zone(editor_client, typed_attributes):
    contact = make_contact(last_order="2024-10-31T14:00:00Z")
    editor_client.cookies["tz"] = "Asia%2FKolkata"  # as the page script writes it
    edit = html(editor_client.get(edit_url(contact, "last_order"), **HX))
    assert 'value="19:30"' in edit and 'value="Asia/Kolkata"' in edit
    page = html(editor_client.get(f"/contacts/{contact.pk}/"))
    assert "2024-10-31 19:30 IST" in page


# --- Saving ---------------------------------------------------------------------------------
def test_saving_name_returns_display_state_and_records_who(editor_client, editor, ajmal):
    response = editor_client.post(
        edit_url(ajmal, "name"), {"value": "Abel", "expected": '"Ajmal"'}, **HX
    )
    assert response.status_code == 200
    body = html(response)
    assert '<div class="field-row" id="field-name"' in body
    assert "Abel" in body and "Edit Name" in body
    assert 'id="contact-heading" hx-swap-oob="true"' in body
    assert json.loads(response["HX-Trigger"]) == {"contact-changed": {}}
    ajmal.refresh_from_db()
    assert ajmal.name == "Abel"
    activity = ajmal.activities.first()
    assert activity.actor_user == editor and activity.source == "web"
    assert activity.changes == {"fields": {"name": ["Ajmal", "Abel"]}}


@pytest.mark.parametrize(
    ("key", "data", "stored"),
    [
        ("city", {"value": "  Mumbai "}, "Mumbai"),
        ("orders", {"value": "1,234.50"}, 1234.5),
        ("orders", {"value": "7"}, 7),
        ("newsletter", {"value": "on"}, True),
        ("newsletter", {}, False),
        (
            "last_order",
            {"value_date": "2024-10-31", "value_time": "19:30", "tz": "Asia/Kolkata"},
            "2024-10-31T14:00:00Z",
        ),
        ("last_order", {"value_date": "2024-10-31", "value_time": "", "tz": "UTC"}, "2024-10-31"),
        ("interests", {"items": ["books"], "new_item": "music; art"}, ["books", "music", "art"]),
    ],
)
def test_saving_each_type_stores_the_coerced_value(
    editor_client, typed_attributes, key, data, stored
):
    contact = make_contact(name="X")
    response = editor_client.post(edit_url(contact, key), {**data, "expected": "null"}, **HX)
    assert response.status_code == 200
    assert 'class="field-row" id="field-' + key in html(response)
    contact.refresh_from_db()
    assert contact.traits[key] == stored
    assert type(contact.traits[key]) is type(stored)


def test_whatsapp_switch_saves_true_and_false(editor_client, ajmal):
    editor_client.post(edit_url(ajmal, "whatsapp_opted"), {"value": "on", "expected": "false"})
    ajmal.refresh_from_db()
    assert ajmal.whatsapp_opted is True
    editor_client.post(edit_url(ajmal, "whatsapp_opted"), {"expected": "true"})
    ajmal.refresh_from_db()
    assert ajmal.whatsapp_opted is False


@pytest.mark.parametrize(
    ("key", "data", "message"),
    [
        ("orders", {"value": "12a"}, "Orders: expected a number (got &quot;12a&quot;)"),
        ("last_order", {"value_date": "2024-02-30"}, "Last order: not a real date"),
        ("last_order", {"value_date": "2024-02-01", "value_time": "25:00"}, "not a real time"),
        (
            "last_order",
            {"value_date": "2024-02-01", "value_time": "10:00", "tz": "Mars/Base"},
            "unknown zone",
        ),
        ("last_order", {"value_time": "10:00"}, "enter a date"),
        ("email", {"value": "ajmal.example.com"}, "Email: not a valid email address"),
    ],
)
def test_invalid_input_keeps_the_editor_open_with_the_message(
    editor_client, typed_attributes, key, data, message
):
    contact = make_contact(name="X", email="x@example.com", orders=1)
    before = Contact.objects.get(pk=contact.pk)
    response = editor_client.post(edit_url(contact, key), {**data, "expected": "null"}, **HX)
    body = html(response)
    assert response.status_code == 200
    assert "is-editing" in body and message in body
    assert 'class="invalid-feedback d-block"' in body
    contact.refresh_from_db()
    assert contact.traits == before.traits and contact.email == before.email
    assert contact.version == before.version


def test_invalid_input_keeps_what_was_typed(editor_client, typed_attributes):
    contact = make_contact(orders=1)
    body = html(editor_client.post(edit_url(contact, "orders"), {"value": "12a", "expected": "1"}))
    assert 'value="12a"' in body
    # The message is tied to the input for screen readers.
    assert 'aria-describedby="edit-orders-value_error"' in body
    assert 'id="edit-orders-value_error"' in body


def test_clearing_a_trait_removes_it_from_the_contact_not_the_attribute(
    editor_client, typed_attributes
):
    contact = make_contact(city="Pune", orders=2)
    response = editor_client.post(
        edit_url(contact, "city"), {"value": "Pune", "expected": '"Pune"', "clear": "1"}, **HX
    )
    assert response.status_code == 200
    assert 'id="field-city"' not in html(response)
    contact.refresh_from_db()
    assert "city" not in contact.traits and contact.traits["orders"] == 2
    assert Attribute.objects.filter(key="city").exists()
    assert contact.activities.first().changes == {"fields": {"city": ["Pune", None]}}


def test_remove_from_contact_ignores_what_the_input_holds(editor_client, typed_attributes):
    contact = make_contact(orders=4)
    data = {"value": "not a number", "expected": "4", "clear": "1"}
    response = editor_client.post(edit_url(contact, "orders"), data, **HX)
    assert "is-editing" not in html(response)
    contact.refresh_from_db()
    assert "orders" not in contact.traits


def test_removing_a_trait_someone_just_changed_asks_first(editor_client, typed_attributes):
    contact = make_contact(orders=4)
    services.contact_field_update(
        actor=Actor.system(), contact_id=contact.pk, field_key="orders", value=5
    )
    data = {"value": "4", "expected": "4", "clear": "1"}
    body = html(editor_client.post(edit_url(contact, "orders"), data, **HX))
    assert '<q class="conflict-current">5</q>' in body and "Remove it anyway" in body
    contact.refresh_from_db()
    assert contact.traits["orders"] == 5


def test_emptying_a_text_trait_also_clears_it(editor_client, typed_attributes):
    contact = make_contact(city="Pune")
    editor_client.post(edit_url(contact, "city"), {"value": " ", "expected": '"Pune"'})
    contact.refresh_from_db()
    assert "city" not in contact.traits


# --- Locked fields and permissions ----------------------------------------------------------
@pytest.mark.parametrize("key", ["phone", "country_code", "created_at", "updated_at", "tags"])
def test_locked_fields_refuse_hand_made_edits(editor_client, ajmal, key):
    get = editor_client.get(edit_url(ajmal, key), **HX)
    post = editor_client.post(edit_url(ajmal, key), {"value": "+15555550100", "expected": "null"})
    assert 400 <= get.status_code < 500
    assert 400 <= post.status_code < 500
    ajmal.refresh_from_db()
    assert ajmal.phone == "+919876543210" and ajmal.country_code == "91"
    assert ajmal.version == 1


def test_viewer_edit_requests_are_refused(viewer_client, ajmal, typed_attributes):
    pk = ajmal.pk
    requests = [
        ("get", edit_url(ajmal, "name"), {}),
        ("post", edit_url(ajmal, "name"), {"value": "Abel", "expected": '"Ajmal"'}),
        ("get", f"/contacts/{pk}/add-field/", {}),
        ("post", f"/contacts/{pk}/add-field/", {"attribute": "city", "step": "value"}),
        ("post", f"/contacts/{pk}/tags/add/", {"name": "VIP"}),
        ("post", f"/contacts/{pk}/tags/remove/", {"name": "VIP"}),
        ("get", f"/contacts/{pk}/tags/suggest/?name=v", {}),
    ]
    for method, url, data in requests:
        response = getattr(viewer_client, method)(url, data, **HX)
        assert response.status_code == 403, (method, url)
    ajmal.refresh_from_db()
    assert ajmal.name == "Ajmal" and ajmal.version == 1


def test_logged_out_requests_go_to_login(ajmal):
    response = Client().post(edit_url(ajmal, "name"), {"value": "Abel"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Concurrent edits -----------------------------------------------------------------------
def test_second_save_sees_the_conflict_with_the_current_value(editor_client, manager, ajmal):
    # Both opened the editor while the name was Ajmal; the other person saved first.
    services.contact_field_update(
        actor=Actor.web(manager), contact_id=ajmal.pk, field_key="name", value="Abel"
    )
    response = editor_client.post(
        edit_url(ajmal, "name"), {"value": "Zed", "expected": '"Ajmal"'}, **HX
    )
    body = html(response)
    assert response.status_code == 200
    assert "was changed by someone else" in body
    assert '<q class="conflict-current">Abel</q>' in body
    assert "Overwrite with mine" in body and "Keep current value" in body
    assert 'value="Zed"' in body  # what the person typed is kept
    assert 'name="expected" value="&quot;Abel&quot;"' in body
    ajmal.refresh_from_db()
    assert ajmal.name == "Abel"

    # "Overwrite with mine" re-submits the same form, which now expects "Abel".
    overwrite = editor_client.post(
        edit_url(ajmal, "name"), {"value": "Zed", "expected": '"Abel"'}, **HX
    )
    assert "is-editing" not in html(overwrite)
    ajmal.refresh_from_db()
    assert ajmal.name == "Zed"


def test_conflict_on_a_list_compares_values_not_text(editor_client, typed_attributes):
    contact = make_contact(interests=["a", "b"])
    same = editor_client.post(
        edit_url(contact, "interests"), {"items": ["a", "b", "c"], "expected": '["a", "b"]'}
    )
    assert "was changed by someone else" not in html(same)
    contact.refresh_from_db()
    assert contact.traits["interests"] == ["a", "b", "c"]


def test_damaged_expected_value_is_an_error_not_a_save(editor_client, ajmal):
    body = html(editor_client.post(edit_url(ajmal, "name"), {"value": "Abel", "expected": "{"}))
    assert "The form was damaged" in body
    ajmal.refresh_from_db()
    assert ajmal.name == "Ajmal"


def test_duplicate_user_id_is_shown_next_to_the_field(editor_client):
    make_contact(user_id="u-1")
    contact = make_contact(name="B")
    body = html(
        editor_client.post(edit_url(contact, "user_id"), {"value": "u-1", "expected": "null"})
    )
    assert "is-editing" in body and "already exists" in body


# --- + Add Field ----------------------------------------------------------------------------
def test_add_field_offers_only_attributes_the_contact_lacks(editor_client, typed_attributes):
    contact = make_contact(city="Pune")
    body = html(editor_client.get(f"/contacts/{contact.pk}/add-field/", **HX))
    assert '<option value="orders">Orders</option>' in body
    assert '<option value="city">' not in body
    assert "New field…" in body


def test_add_existing_attribute_in_two_steps(editor_client, typed_attributes, ajmal):
    url = f"/contacts/{ajmal.pk}/add-field/"
    step1 = html(editor_client.post(url, {"attribute": "city", "step": "choose"}, **HX))
    assert 'name="new-value"' in step1 and 'name="step" value="value"' in step1
    step2 = editor_client.post(
        url, {"attribute": "city", "step": "value", "new-value": "Kochi", "new-expected": "null"}
    )
    body = html(step2)
    assert 'class="field-row" id="field-city"' in body and "Kochi" in body
    assert "+ Add Field" in body  # a fresh add button after the new row
    assert json.loads(step2["HX-Trigger"]) == {"contact-changed": {}}
    ajmal.refresh_from_db()
    assert ajmal.traits == {"city": "Kochi"}


@pytest.mark.parametrize(
    ("field_type", "data", "stored"),
    [
        ("text", {"new-value": "Gold"}, "Gold"),
        ("number", {"new-value": "42"}, 42),
        ("boolean", {"new-value": "on"}, True),
        (
            "datetime",
            {"new-value_date": "2025-01-02", "new-value_time": "", "new-tz": "UTC"},
            "2025-01-02",
        ),
        ("list", {"new-new_item": "red, blue"}, ["red", "blue"]),
    ],
)
def test_add_field_creates_a_new_attribute_of_each_type(
    editor_client, editor, ajmal, field_type, data, stored
):
    url = f"/contacts/{ajmal.pk}/add-field/"
    chooser = {"attribute": "__new__", "label": "Loyalty level", "type": field_type}
    step1 = html(editor_client.post(url, {**chooser, "step": "choose"}, **HX))
    assert "new field" in step1
    response = editor_client.post(url, {**chooser, "step": "value", **data}, **HX)
    assert 'id="field-loyalty_level"' in html(response)
    attribute = Attribute.objects.get(key="loyalty_level")
    assert attribute.type == field_type and attribute.created_by == editor
    ajmal.refresh_from_db()
    assert ajmal.traits["loyalty_level"] == stored


def test_new_attribute_is_not_created_when_its_value_is_invalid(editor_client, ajmal):
    url = f"/contacts/{ajmal.pk}/add-field/"
    data = {"attribute": "__new__", "label": "Score", "type": "number", "step": "value"}
    body = html(editor_client.post(url, {**data, "new-value": "lots"}))
    assert "Score: expected a number" in body
    assert not Attribute.objects.filter(label="Score").exists()


def test_new_attribute_needs_a_label_and_a_free_name(editor_client, typed_attributes, ajmal):
    url = f"/contacts/{ajmal.pk}/add-field/"
    no_label = html(editor_client.post(url, {"attribute": "__new__", "label": " ", "type": "text"}))
    assert "give the new field a name" in no_label
    taken = html(editor_client.post(url, {"attribute": "__new__", "label": "city", "type": "text"}))
    assert "a field called &quot;City&quot; already exists" in taken


def test_add_field_value_is_required(editor_client, typed_attributes, ajmal):
    url = f"/contacts/{ajmal.pk}/add-field/"
    body = html(editor_client.post(url, {"attribute": "city", "step": "value", "new-value": ""}))
    assert "City: enter a value" in body


def test_editor_without_add_attribute_cannot_create_attributes(ajmal, typed_attributes):
    from tests.factories import UserFactory

    user = UserFactory(username="limited", groups=["Editors"])
    from django.contrib.auth.models import Permission

    user.groups.first().permissions.remove(Permission.objects.get(codename="add_attribute"))
    client = Client()
    client.force_login(user)
    url = f"/contacts/{ajmal.pk}/add-field/"
    assert "New field…" not in html(client.get(url))
    data = {"attribute": "__new__", "label": "Rank", "type": "text", "step": "value"}
    client.post(url, {**data, "new-value": "1"})
    assert not Attribute.objects.filter(label="Rank").exists()


def test_cancelled_add_field_returns_the_button(editor_client, ajmal):
    body = html(editor_client.get(f"/contacts/{ajmal.pk}/add-field/?closed=1", **HX))
    assert "+ Add Field" in body and "<select" not in body


# --- Tags -----------------------------------------------------------------------------------
def test_adding_a_tag_matches_existing_case_insensitively(editor_client, editor, ajmal):
    services.tag_create(name="New Customer")
    response = editor_client.post(f"/contacts/{ajmal.pk}/tags/add/", {"name": "new customer"}, **HX)
    body = html(response)
    assert "<span>New Customer</span>" in body
    assert json.loads(response["HX-Trigger"]) == {"contact-changed": {}}
    assert list(ajmal.tags.values_list("name", flat=True)) == ["New Customer"]
    activity = ajmal.activities.first()
    assert activity.changes["tags_added"] == ["New Customer"] and activity.actor_user == editor


def test_adding_an_unknown_tag_creates_it(editor_client, ajmal):
    editor_client.post(f"/contacts/{ajmal.pk}/tags/add/", {"name": "  Follow  up "})
    assert list(ajmal.tags.values_list("name", flat=True)) == ["Follow up"]


def test_adding_an_empty_or_too_long_tag_is_explained(editor_client, ajmal):
    empty = html(editor_client.post(f"/contacts/{ajmal.pk}/tags/add/", {"name": "  "}))
    assert "type a tag name" in empty
    long = html(editor_client.post(f"/contacts/{ajmal.pk}/tags/add/", {"name": "x" * 120}))
    assert "longer than 100" in long
    assert ajmal.tags.count() == 0


def test_removing_a_tag(editor_client, editor):
    contact = make_contact(tags=["VIP", "Cold Lead"])
    response = editor_client.post(f"/contacts/{contact.pk}/tags/remove/", {"name": "vip"}, **HX)
    assert "Remove tag Cold Lead" in html(response) and "Remove tag VIP" not in html(response)
    assert list(contact.tags.values_list("name", flat=True)) == ["Cold Lead"]
    assert contact.activities.first().changes["tags_removed"] == ["VIP"]


def test_tag_suggestions_are_case_insensitive_and_skip_tags_the_contact_has(editor_client):
    for name in ("VIP", "Vip Gold", "Potential Lead", "Silver VIP"):
        services.tag_create(name=name)
    contact = make_contact(tags=["VIP"])
    body = html(editor_client.get(f"/contacts/{contact.pk}/tags/suggest/?name=vip", **HX))
    assert "Vip Gold" in body and "Silver VIP" in body
    assert "Potential Lead" not in body
    assert ">VIP</button>" not in body
    assert body.index("Vip Gold") < body.index("Silver VIP")  # names starting with it first
    assert "Create tag" not in body  # "vip" is an existing tag (the contact's own)
    fresh = html(editor_client.get(f"/contacts/{contact.pk}/tags/suggest/?name=brand+new", **HX))
    assert "Create tag “brand new”" in fresh


# --- Timeline -------------------------------------------------------------------------------
def test_timeline_shows_every_kind_of_actor_and_change(editor_client, editor, ajmal):
    from contacts.models import ApiKey

    key = ApiKey.objects.create(name="Shopify", prefix="abc", secret_hash="x")
    services.contact_field_update(
        actor=Actor.web(editor), contact_id=ajmal.pk, field_key="name", value="Abel"
    )
    services.contact_upsert(
        actor=Actor.api(key),
        phone_number="9876543210",
        country_code="91",
        values={"Plan": "Gold"},
        create_attributes=True,
    )
    services.contact_upsert(
        actor=Actor.upload(user=editor, upload_job_id=42),
        phone_number="9876543210",
        country_code="91",
        tags=["VIP"],
    )
    services.contact_event_record(
        actor=Actor.api(key), contact_id=ajmal.pk, event="Order Placed", traits={"total": 99}
    )
    body = html(editor_client.get(f"/contacts/{ajmal.pk}/"))
    assert 'change-old">Ajmal</span>' in body and 'change-new">Abel</span>' in body
    assert '<span class="timeline-who">editor</span>' in body
    assert "API key “Shopify”" in body
    assert '<a href="/uploads/42/">Upload job #42 by editor</a>' in body
    assert "Event: Order Placed" in body and "total:</span> 99" in body
    assert "Tags added:" in body
    # Newest first.
    assert body.index("Event: Order Placed") < body.index("Upload job #42")
    assert body.index("Upload job #42") < body.rindex("API key “Shopify”")
    assert body.rindex("API key “Shopify”") < body.index('change-new">Abel</span>')


def test_timeline_is_paginated_newest_first(editor_client, editor, ajmal):
    for n in range(25):
        services.contact_field_update(
            actor=Actor.web(editor), contact_id=ajmal.pk, field_key="name", value=f"Name {n}"
        )
    first = html(editor_client.get(f"/contacts/{ajmal.pk}/"))
    assert "Name 24</span>" in first and "Page 1 of 2" in first and "Older" in first
    second = html(editor_client.get(f"/contacts/{ajmal.pk}/activity/?page=2", **HX))
    assert second.lstrip().startswith('<section class="card" id="timeline"')
    assert "Created" in second and "Name 24</span>" not in second and "Newer" in second
    assert Activity.objects.filter(contact=ajmal).count() == 26


def test_timeline_shows_deleted_fields_by_key(editor_client, typed_attributes):
    contact = make_contact(city="Pune")
    Attribute.objects.filter(key="city").delete()
    body = html(editor_client.get(f"/contacts/{contact.pk}/activity/", **HX))
    assert 'change-label">city:</span>' in body


# --- The walkthrough ------------------------------------------------------------------------
def test_seed_walkthrough_by_requests(editor_client, editor, typed_attributes):
    contact = make_contact(name="Ajmal", phone_number="9876543210")
    editor_client.get(edit_url(contact, "name"), **HX)
    editor_client.post(edit_url(contact, "name"), {"value": "Abel", "expected": '"Ajmal"'}, **HX)
    page = html(editor_client.get(f"/contacts/{contact.pk}/"))
    assert '<h1 class="h3 mb-0" id="contact-heading">Abel</h1>' in page
    assert "Abel" in html(editor_client.get("/"))
    assert 'change-old">Ajmal</span>' in page and 'timeline-who">editor<' in page
    url = f"/contacts/{contact.pk}/add-field/"
    editor_client.post(url, {"attribute": "city", "step": "value", "new-value": "Kochi"}, **HX)
    contact.refresh_from_db()
    assert contact.traits == {"city": "Kochi"} and contact.name == "Abel"


# --- Query counts ---------------------------------------------------------------------------
def _grow(contact: Contact, editor, n: int) -> None:
    for i in range(n):
        AttributeFactory(label=f"Extra {i}", key=f"extra_{i}")
    services.contact_update(
        actor=Actor.web(editor),
        contact_id=contact.pk,
        values={f"extra_{i}": f"v{i}" for i in range(n)},
    )
    services.contact_tags_add(
        actor=Actor.web(editor), contact_id=contact.pk, names=[f"Tag {i}" for i in range(n)]
    )
    for i in range(n):
        services.contact_field_update(
            actor=Actor.web(editor), contact_id=contact.pk, field_key="name", value=f"N{i}"
        )


@pytest.mark.parametrize("size", [1, 30])
def test_page_queries_do_not_grow_with_traits_tags_or_activity(
    editor_client, editor, django_assert_max_num_queries, size
):
    contact = make_contact(name="Q")
    _grow(contact, editor, size)
    # 10: one is the fields' kind history, so that old values read as the kind they had.
    with django_assert_max_num_queries(10):
        response = editor_client.get(f"/contacts/{contact.pk}/")
    assert response.status_code == 200
    assert f"Extra {size - 1}" in html(response)


@pytest.mark.parametrize("size", [1, 30])
def test_fragment_queries_do_not_grow(editor_client, editor, django_assert_max_num_queries, size):
    contact = make_contact(name="Q")
    _grow(contact, editor, size)
    with django_assert_max_num_queries(9):
        editor_client.get(f"/contacts/{contact.pk}/activity/", **HX)
    with django_assert_max_num_queries(7):
        editor_client.get(edit_url(contact, "name"), **HX)
    with django_assert_max_num_queries(13):
        editor_client.post(edit_url(contact, "name"), {"value": "Z", "expected": f'"N{size - 1}"'})
    contact.refresh_from_db()
    assert contact.name == "Z"


def test_clearing_the_user_id_of_a_contact_without_phone_is_refused(editor_client):
    contact = make_contact(user_id="u-9", name="No phone")
    body = html(
        editor_client.post(edit_url(contact, "user_id"), {"value": "", "expected": '"u-9"'})
    )
    assert "is-editing" in body and "User id" in body
    contact.refresh_from_db()
    assert contact.user_id == "u-9"


def test_empty_user_ids_are_stored_as_none_so_they_never_clash(editor_client):
    first, second = make_contact(name="A"), make_contact(name="B")
    for contact in (first, second):
        editor_client.post(edit_url(contact, "user_id"), {"value": "", "expected": "null"})
        contact.refresh_from_db()
        assert contact.user_id is None

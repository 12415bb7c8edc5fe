"""The admin writes through the services, so its edits are validated and logged."""

from __future__ import annotations

import pytest

from contacts.models import Activity, Attribute, Contact, FieldType, Source, Tag
from tests.factories import AttributeFactory, TagFactory, make_contact

pytestmark = pytest.mark.django_db


def test_admin_add_creates_contact_through_services_and_logs_it(admin_client_):
    vip = TagFactory(name="VIP")
    response = admin_client_.post(
        "/admin/contacts/contact/add/",
        {
            "phone_input": "09876543210",
            "country_code_input": "+91",
            "name": "Ajmal",
            "email": "ajmal@example.com",
            "user_id": "",
            "traits": "{}",
            "tag_list": [vip.pk],
        },
    )
    assert response.status_code == 302, response.content
    contact = Contact.objects.get()
    assert (contact.phone, contact.name) == ("+919876543210", "Ajmal")
    assert [t.name for t in contact.tags.all()] == ["VIP"]
    entry = Activity.objects.get()
    assert entry.source == Source.ADMIN and entry.actor_user.username == "admin"


def test_admin_change_is_logged_with_old_and_new(admin_client_):
    AttributeFactory(key="city", label="City")
    contact = make_contact(name="Ajmal", city="Pune")
    response = admin_client_.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {
            "name": "Abel",
            "email": "",
            "user_id": "",
            "traits": '{"city": "Goa"}',
            "tag_list": [],
        },
    )
    assert response.status_code == 302
    entry = Activity.objects.filter(contact=contact).first()
    assert entry.source == Source.ADMIN
    assert entry.changes["fields"] == {"name": ["Ajmal", "Abel"], "city": ["Pune", "Goa"]}


def test_admin_refuses_a_bad_trait_value_naming_the_field(admin_client_):
    AttributeFactory(key="orders", label="Orders", type=FieldType.NUMBER)
    contact = make_contact(name="Ajmal")
    response = admin_client_.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {
            "name": "Abel",
            "email": "",
            "user_id": "",
            "traits": '{"orders": "many"}',
        },
    )
    assert response.status_code == 200
    assert b"Orders: expected a number" in response.content
    contact.refresh_from_db()
    assert contact.name == "Ajmal"


def test_admin_search_finds_by_name_phone_email_and_user_id(admin_client_):
    make_contact(name="Ajmal", phone_number="9876543210", email="aj@example.com", user_id="x-1")
    make_contact(name="Someone else")
    for term in ["Ajmal", "9876543210", "aj@example.com", "x-1"]:
        response = admin_client_.get("/admin/contacts/contact/", {"q": term})
        assert b"Ajmal" in response.content and b"Someone else" not in response.content


def test_admin_attribute_and_tag_creation_go_through_services(admin_client_):
    admin_client_.post("/admin/contacts/attribute/add/", {"label": "Pin code", "type": "text"})
    assert Attribute.objects.get().key == "pin_code"
    admin_client_.post("/admin/contacts/tag/add/", {"name": "New Customer", "is_default": "on"})
    admin_client_.post("/admin/contacts/tag/add/", {"name": "new customer"})
    tag = Tag.objects.get()
    assert (tag.name, tag.name_key, tag.is_default) == ("New Customer", "new customer", True)


def test_activity_is_read_only_in_admin(admin_client_):
    make_contact()
    entry = Activity.objects.get()
    assert admin_client_.get("/admin/contacts/activity/").status_code == 200
    assert admin_client_.get("/admin/contacts/activity/add/").status_code == 403
    response = admin_client_.post(f"/admin/contacts/activity/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403


def test_admin_lists_bulk_actions_read_only_with_a_link_to_their_progress(
    admin_client_, django_assert_max_num_queries
):
    from contacts import services
    from contacts.models import BulkAction
    from contacts.services import Actor

    for i in range(3):
        make_contact(name=f"C{i}")
    action = services.bulk_action_start(
        actor=Actor.system(), kind="tags_add", contacts=Contact.objects.all(), names=["VIP"]
    )
    with django_assert_max_num_queries(12):
        listing = admin_client_.get("/admin/contacts/bulkaction/")
    assert listing.status_code == 200 and "Add tags" in listing.content.decode()
    page = admin_client_.get(f"/admin/contacts/bulkaction/{action.pk}/change/").content.decode()
    assert f'href="/list/bulk/{action.pk}/"' in page
    assert "contact_ids" not in page
    assert admin_client_.get("/admin/contacts/bulkaction/add/").status_code == 403
    assert BulkAction.objects.count() == 1


def test_the_admin_does_not_delete_fields_leaving_their_values_behind(admin_client_):
    attribute = AttributeFactory(key="city", label="City")
    response = admin_client_.post(
        f"/admin/contacts/attribute/{attribute.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Attribute.objects.filter(pk=attribute.pk).exists()

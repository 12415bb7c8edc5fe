"""The rules every entry point obeys (DESIGN.md), tested at the services that enforce them."""

from __future__ import annotations

import pytest

from contacts import services
from contacts.models import Activity, Attribute, Contact, ContactTag, FieldType, Source, Tag
from contacts.services import (
    Actor,
    ContactConflict,
    ContactInputError,
    DuplicateContact,
    VersionConflict,
)
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

API = Actor.system()


def upsert(**kwargs):
    kwargs.setdefault("actor", API)
    kwargs.setdefault("create_attributes", True)
    return services.contact_upsert(**kwargs)


# --- Rule 2: matching -----------------------------------------------------------------------
def test_upsert_by_phone_creates_then_finds_the_same_contact():
    first = upsert(phone_number="9876543210", country_code="+91", values={"name": "Ajmal"})
    again = upsert(phone_number="+919876543210", values={"name": "Abel"})
    assert first.created and not again.created
    assert again.contact.pk == first.contact.pk
    assert Contact.objects.get().name == "Abel"


def test_upsert_by_user_id_wins_over_phone_lookup_when_phone_is_new_to_contact():
    created = upsert(user_id="0123abc45d", values={"name": "Gavin"})
    result = upsert(user_id="0123abc45d", phone_number="9967536783", country_code="91")
    assert result.contact.pk == created.contact.pk
    assert result.contact.phone == "+919967536783"


def test_user_id_and_phone_pointing_at_different_contacts_is_a_conflict_and_changes_nothing():
    a = make_contact(phone_number="9876543210", user_id="a", name="A")
    make_contact(phone_number="9876543211", user_id="b", name="B")
    before = Activity.objects.count()
    with pytest.raises(ContactConflict, match="one contact and phone"):
        upsert(
            user_id="a",
            phone_number="9876543211",
            country_code="91",
            values={"name": "X"},
            tags=["t"],
        )
    a.refresh_from_db()
    assert a.name == "A"
    assert Activity.objects.count() == before
    assert not Tag.objects.filter(name="t").exists()


def test_phone_matched_contact_with_another_user_id_is_a_conflict():
    make_contact(phone_number="9876543210", user_id="a")
    with pytest.raises(ContactConflict):
        upsert(user_id="other", phone_number="9876543210", country_code="91")


def test_identifier_is_mandatory():
    with pytest.raises(ContactInputError, match="a user id or a phone number is required"):
        upsert(values={"name": "Nobody"})


def test_impossible_phone_is_refused_naming_the_field():
    with pytest.raises(ContactInputError) as info:
        upsert(phone_number="12345", country_code="91", values={"name": "X"})
    assert info.value.errors[0].field == "phone_number"
    assert "not a possible phone number" in info.value.message
    assert Contact.objects.count() == 0


# --- Rule 3: merging ------------------------------------------------------------------------
def test_update_merges_traits_leaving_unnamed_ones_alone_and_null_clears():
    upsert(user_id="u", values={"name": "Gavin", "dob": "1996-12-01", "Sample trait a": "y"})
    upsert(user_id="u", values={"dob": "1997-12-01"})
    contact = Contact.objects.get()
    assert contact.traits == {"dob": "1997-12-01", "sample_trait_a": "y"}
    assert contact.name == "Gavin"
    upsert(user_id="u", values={"Sample trait a": None})
    contact.refresh_from_db()
    assert contact.traits == {"dob": "1997-12-01"}


def test_new_trait_creates_attribute_with_inferred_type():
    upsert(
        user_id="u",
        values={
            "Pin code": "400001",
            "Orders": 3,
            "VIP": True,
            "Likes": ["a"],
            "dob": "1996-12-01",
        },
    )
    types = dict(Attribute.objects.values_list("key", "type"))
    assert types == {
        "pin_code": "text",
        "orders": "number",
        "vip": "boolean",
        "likes": "list",
        "dob": "datetime",
    }


def test_built_in_fields_are_recognised_in_traits_by_common_spellings():
    upsert(
        user_id="u",
        values={
            "Name": "Gavin Roberts",
            "Email Address": "g@example.com",
            "whatsapp_opted": "TRUE",
        },
    )
    contact = Contact.objects.get()
    assert (contact.name, contact.email, contact.whatsapp_opted) == (
        "Gavin Roberts",
        "g@example.com",
        True,
    )
    assert contact.traits == {}


def test_phone_of_an_existing_contact_is_never_changed():
    contact = make_contact(phone_number="9876543210", user_id="u")
    with pytest.raises(ContactConflict, match="never changed"):
        upsert(user_id="u", phone_number="9876543211", country_code="91")
    with pytest.raises(ContactInputError, match="cannot be changed"):
        services.contact_update(actor=API, contact_id=contact.pk, values={"phone": "+15551234"})
    contact.refresh_from_db()
    assert contact.phone == "+919876543210"


# --- Rule 4: tags ---------------------------------------------------------------------------
def test_tags_are_add_only_and_case_insensitive():
    upsert(phone_number="9967536783", country_code="+91", tags=["new customer", "potential lead"])
    upsert(phone_number="9967536783", country_code="+91", tags=["New Customer", "POTENTIAL LEAD"])
    upsert(phone_number="9967536783", country_code="+91", tags=["vip"])
    contact = Contact.objects.get()
    assert sorted(t.name for t in contact.tags.all()) == ["new customer", "potential lead", "vip"]
    assert Tag.objects.count() == 3


def test_existing_tag_keeps_the_spelling_it_was_first_written_with():
    services.tag_create(name="New Customer")
    upsert(phone_number="9967536783", country_code="+91", tags=["new customer"])
    assert [t.name for t in Contact.objects.get().tags.all()] == ["New Customer"]


def test_staff_can_remove_a_tag_in_any_case():
    contact = make_contact(tags=["VIP", "Lead"])
    removed = services.contact_tags_remove(actor=API, contact_id=contact.pk, names=["vip"])
    assert removed == ["VIP"]
    assert [t.name for t in contact.tags.all()] == ["Lead"]


# --- Rule 5: activity -----------------------------------------------------------------------
def test_every_change_is_recorded_with_old_and_new_values_and_who():
    user_actor = Actor(source=Source.WEB)
    contact = make_contact(name="Ajmal", phone_number="9876543210")
    services.contact_field_update(
        actor=user_actor, contact_id=contact.pk, field_key="name", value="Abel"
    )
    entry = Activity.objects.filter(contact=contact).first()
    assert entry.kind == Activity.Kind.UPDATED
    assert entry.source == Source.WEB
    assert entry.changes == {"fields": {"name": ["Ajmal", "Abel"]}}


def test_a_write_that_changes_nothing_records_nothing():
    upsert(user_id="u", values={"name": "Gavin", "dob": "1996-12-01"}, tags=["a"])
    before = Activity.objects.count()
    version = Contact.objects.get().version
    result = upsert(user_id="u", values={"name": "Gavin", "dob": "1996-12-01"}, tags=["A"])
    assert not result.changed
    assert Activity.objects.count() == before
    assert Contact.objects.get().version == version


def test_creation_records_initial_values_and_tags():
    contact = make_contact(name="Ajmal", phone_number="9876543210", tags=["VIP"])
    entry = Activity.objects.get(contact=contact)
    assert entry.kind == Activity.Kind.CREATED
    assert entry.changes["fields"]["name"] == [None, "Ajmal"]
    assert entry.changes["fields"]["phone"] == [None, "+919876543210"]
    assert entry.changes["tags_added"] == ["VIP"]


def test_events_never_replace_each_other():
    contact = make_contact()
    services.contact_event_record(
        actor=API, contact_id=contact.pk, event="Order placed", traits={"amount": 10}
    )
    services.contact_event_record(
        actor=API, contact_id=contact.pk, event="Order placed", traits={"amount": 20}
    )
    events = Activity.objects.filter(contact=contact, kind=Activity.Kind.EVENT)
    assert sorted(e.changes["traits"]["amount"] for e in events) == [10, 20]


# --- Rule 6: all-or-nothing -----------------------------------------------------------------
def test_one_bad_value_changes_nothing_and_names_the_field():
    AttributeFactory(key="orders", label="Orders", type=FieldType.NUMBER)
    upsert(user_id="u", values={"name": "Gavin", "orders": 1})
    with pytest.raises(ContactInputError) as info:
        upsert(
            user_id="u", values={"name": "Changed", "orders": "many", "city": "Pune"}, tags=["new"]
        )
    assert [e.field for e in info.value.errors] == ["orders"]
    assert "Orders" in info.value.message and "expected a number" in info.value.message
    contact = Contact.objects.get()
    assert contact.name == "Gavin" and contact.traits == {"orders": 1}
    assert not Attribute.objects.filter(key="city").exists()
    assert not ContactTag.objects.exists()


def test_every_bad_value_is_reported_not_just_the_first():
    AttributeFactory(key="orders", label="Orders", type=FieldType.NUMBER)
    AttributeFactory(key="vip", label="VIP", type=FieldType.BOOLEAN)
    with pytest.raises(ContactInputError) as info:
        upsert(user_id="u", values={"orders": "x", "vip": "maybe", "email": "not-an-email"})
    assert {e.field for e in info.value.errors} == {"orders", "vip", "email"}


def test_create_refuses_an_existing_phone_and_points_at_it():
    existing = make_contact(phone_number="9876543210")
    with pytest.raises(DuplicateContact) as info:
        make_contact(phone_number="+919876543210", name="Dup")
    assert info.value.existing == existing
    assert Contact.objects.count() == 1


def test_user_id_taken_by_another_contact_is_refused_on_update():
    make_contact(user_id="taken")
    other = make_contact()
    with pytest.raises(DuplicateContact, match="user id"):
        services.contact_update(actor=API, contact_id=other.pk, values={"user_id": "taken"})


# --- Rule 7: concurrent edits ---------------------------------------------------------------
def test_second_save_of_a_field_changed_meanwhile_is_refused_with_current_value():
    contact = make_contact(name="Ajmal")
    services.contact_field_update(
        actor=API, contact_id=contact.pk, field_key="name", value="Abel", expected_value="Ajmal"
    )
    with pytest.raises(VersionConflict) as info:
        services.contact_field_update(
            actor=API, contact_id=contact.pk, field_key="name", value="Adam", expected_value="Ajmal"
        )
    assert info.value.current_value == "Abel"
    assert "Abel" in info.value.message
    contact.refresh_from_db()
    assert contact.name == "Abel"


def test_edit_of_another_field_meanwhile_does_not_conflict():
    AttributeFactory(key="city", label="City")
    contact = make_contact(name="Ajmal", city="Pune")
    services.contact_field_update(
        actor=API, contact_id=contact.pk, field_key="name", value="Abel", expected_value="Ajmal"
    )
    services.contact_field_update(
        actor=API, contact_id=contact.pk, field_key="city", value="Goa", expected_value="Pune"
    )
    contact.refresh_from_db()
    assert (contact.name, contact.traits["city"], contact.version) == ("Abel", "Goa", 3)


def test_expected_version_refuses_any_change_since():
    contact = make_contact(name="Ajmal")
    services.contact_update(actor=API, contact_id=contact.pk, values={"email": "a@b.co"})
    with pytest.raises(VersionConflict):
        services.contact_update(
            actor=API, contact_id=contact.pk, values={"name": "X"}, expected_version=contact.version
        )


# --- Attributes and tags --------------------------------------------------------------------
def test_attribute_create_refuses_a_name_in_use_by_any_field():
    services.attribute_create(label="City", type=FieldType.TEXT)
    for label in ["city", "CITY ", "Email"]:
        with pytest.raises(ContactInputError, match="already exists"):
            services.attribute_create(label=label, type=FieldType.TEXT)


def test_attribute_create_refuses_unknown_type():
    with pytest.raises(ContactInputError, match="not a field type"):
        services.attribute_create(label="Size", type="colour")


def test_tag_names_are_unique_case_insensitively_even_beyond_ascii():
    services.tag_create(name="École")
    assert services.tag_create(name="ÉCOLE").name == "École"
    assert Tag.objects.count() == 1


def test_contacts_delete_removes_contacts_and_their_activity():
    keep, gone = make_contact(), make_contact()
    assert services.contacts_delete(actor=API, contacts=Contact.objects.filter(pk=gone.pk)) == 1
    assert list(Contact.objects.all()) == [keep]
    assert not Activity.objects.filter(contact_id=gone.pk).exists()


def test_new_field_name_longer_than_allowed_is_refused_naming_the_limit():
    with pytest.raises(ContactInputError, match="at most 100 characters"):
        upsert(user_id="u", values={"x" * 101: "value"})
    assert not Attribute.objects.exists() and not Contact.objects.exists()


def test_new_trait_whose_key_is_taken_by_another_field_gets_its_own_key():
    services.attribute_create(label="City", type=FieldType.TEXT)
    upsert(user_id="u", values={"City!": "Pune"})
    attribute = Attribute.objects.get(label="City!")
    assert attribute.key == "city_2"
    assert Contact.objects.get().traits == {"city_2": "Pune"}

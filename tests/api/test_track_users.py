"""POST /v1/public/track/users/: Interakt's payload, matching, merging and the seed examples."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Activity, Attribute, Contact, FieldType, Tag
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

GAVIN = {
    "userId": "gavin-roberts",
    "phoneNumber": "9967536783",
    "countryCode": "+91",
    "traits": {
        "name": "Gavin Roberts",
        "email": "gavinroberts@gmail.com",
        "dob": "1998-01-01",
        "Sample trait a": "First value",
    },
}
PHONE = {"phoneNumber": "9967536783", "countryCode": "+91"}


def gavin() -> Contact:
    return Contact.objects.get(phone="+919967536783")


def test_seed_create_gavin_roberts(api):
    response = api.track_user(GAVIN)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"] is True
    assert body["data"]["created"] is True
    contact = gavin()
    assert body["data"]["id"] == contact.pk
    assert contact.user_id == "gavin-roberts"
    assert (contact.country_code, contact.phone_number) == ("91", "9967536783")
    assert contact.name == "Gavin Roberts"
    assert contact.email == "gavinroberts@gmail.com"
    assert contact.traits == {"dob": "1998-01-01", "sample_trait_a": "First value"}
    assert Attribute.objects.get(key="dob").type == FieldType.DATETIME
    assert Attribute.objects.get(key="sample_trait_a").label == "Sample trait a"
    created = Activity.objects.get(contact=contact)
    assert (created.kind, created.source) == ("created", "api")
    assert created.actor_api_key_id is not None


def test_seed_change_dob_leaves_other_traits(api):
    api.track_user(GAVIN)

    response = api.track_user({**PHONE, "traits": {"dob": "1997-12-01"}})

    assert response.status_code == 200
    assert response.json()["message"] == "User updated"
    contact = gavin()
    assert contact.traits == {"dob": "1997-12-01", "sample_trait_a": "First value"}
    assert (contact.name, contact.email) == ("Gavin Roberts", "gavinroberts@gmail.com")
    update = Activity.objects.filter(contact=contact, kind="updated").get()
    assert update.changes["fields"] == {"dob": ["1998-01-01", "1997-12-01"]}


def test_seed_add_pin_code(api):
    api.track_user(GAVIN)
    api.track_user({**PHONE, "traits": {"dob": "1997-12-01"}})

    response = api.track_user({**PHONE, "traits": {"Pin code": "400001"}})

    assert response.status_code == 200
    contact = gavin()
    assert contact.traits == {
        "dob": "1997-12-01",
        "sample_trait_a": "First value",
        "pin_code": "400001",
    }
    assert Attribute.objects.get(key="pin_code").label == "Pin code"


def test_seed_tags_twice_without_duplicates(api):
    api.track_user(GAVIN)
    payload = {**PHONE, "tags": ["new customer", "potential lead"]}

    first = api.track_user(payload)
    second = api.track_user(payload)
    third = api.track_user({**PHONE, "tags": ["New Customer", "POTENTIAL LEAD"]})

    assert first.json()["data"]["changed"] is True
    assert second.json()["data"]["changed"] is False
    assert third.json()["data"]["changed"] is False
    contact = gavin()
    assert sorted(t.name for t in contact.tags.all()) == ["new customer", "potential lead"]
    assert Tag.objects.count() == 2
    assert Activity.objects.filter(contact=contact).count() == 2  # created + tags added


def test_same_payload_twice_changes_nothing_the_second_time(api):
    api.track_user({**GAVIN, "tags": ["vip"]})
    version = gavin().version

    response = api.track_user({**GAVIN, "tags": ["vip"]})

    assert response.json()["message"] == "Nothing to change"
    assert response.json()["data"] == {
        "id": gavin().pk,
        "userId": "gavin-roberts",
        "phoneNumber": "+919967536783",
        "created": False,
        "changed": False,
        "whatsappOpted": False,
        "optedInAt": None,
        "optInSource": "",
        "optInChanged": False,
    }
    assert gavin().version == version
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    ("traits", "expected"),
    [
        ({"whatsappOpted": True}, {"whatsapp_opted": True}),
        ({"WhatsApp Opted": "TRUE"}, {"whatsapp_opted": True}),
        ({"whatsapp_opted": True}, {"whatsapp_opted": True}),
        ({"Email": "g@example.com"}, {"email": "g@example.com"}),
        ({"email_address": "g@example.com"}, {"email": "g@example.com"}),
        ({"Name": "Gavin R"}, {"name": "Gavin R"}),
        ({"full_name": "Gavin R"}, {"name": "Gavin R"}),
    ],
)
def test_traits_naming_builtin_fields_set_the_columns(api, traits, expected):
    response = api.track_user({**PHONE, "traits": traits})

    assert response.status_code == 200, response.content
    contact = gavin()
    for key, value in expected.items():
        assert getattr(contact, key) == value
    assert contact.traits == {}
    assert not Attribute.objects.exists()


def test_null_clears_a_trait_and_a_builtin(api):
    api.track_user(GAVIN)

    response = api.track_user({**PHONE, "traits": {"dob": None, "email": None}})

    assert response.status_code == 200
    contact = gavin()
    assert contact.traits == {"sample_trait_a": "First value"}
    assert contact.email == ""


def test_types_are_inferred_for_new_traits(api):
    traits = {
        "Orders": 3,
        "Lifetime value": 12.5,
        "Newsletter": False,
        "Last order": "2024-10-31T19:30:00.000+05:30",
        "Interests": ["shoes", "bags"],
        "City": "Pune",
    }

    response = api.track_user({**PHONE, "traits": traits})

    assert response.status_code == 200
    types = dict(Attribute.objects.values_list("label", "type"))
    assert types == {
        "Orders": "number",
        "Lifetime value": "number",
        "Newsletter": "boolean",
        "Last order": "datetime",
        "Interests": "list",
        "City": "text",
    }
    assert gavin().traits["last_order"] == "2024-10-31T14:00:00Z"


def test_value_not_fitting_an_attribute_is_422_and_nothing_is_applied(api):
    AttributeFactory(label="Orders", key="orders", type=FieldType.NUMBER)
    api.track_user(GAVIN)
    before = gavin()

    response = api.track_user(
        {
            **PHONE,
            "traits": {"name": "Changed", "orders": "many", "New one": "x"},
            "tags": ["should not appear"],
        }
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["field"] == "traits.orders"
    assert "Orders" in body["message"]
    after = gavin()
    assert after.name == before.name == "Gavin Roberts"
    assert after.version == before.version
    assert not Attribute.objects.filter(key="new_one").exists()
    assert not Tag.objects.exists()


def test_user_id_and_phone_of_two_contacts_is_409(api):
    make_contact(phone_number="9967536783", country_code="91", name="By phone")
    make_contact(user_id="u-2", name="By user id")

    response = api.track_user({"userId": "u-2", **PHONE, "traits": {"name": "X"}})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert response.json()["field"] == "userId"
    assert set(Contact.objects.values_list("name", flat=True)) == {"By phone", "By user id"}


def test_match_by_user_id_then_adds_phone(api):
    make_contact(user_id="u-1", name="Only id")

    response = api.track_user({"userId": "u-1", **PHONE})

    assert response.status_code == 200
    contact = Contact.objects.get(user_id="u-1")
    assert contact.phone == "+919967536783"
    assert Contact.objects.count() == 1


def test_full_international_number_needs_no_country_code(api):
    response = api.track_user({"phoneNumber": "+919967536783", "traits": {"name": "G"}})

    assert response.status_code == 200
    assert gavin().name == "G"


def test_numeric_user_id_and_phone_are_accepted(api):
    response = api.track_user({"userId": 42, "phoneNumber": 9967536783, "countryCode": 91})

    assert response.status_code == 200
    assert gavin().user_id == "42"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"traits": {"name": "Nobody"}}, "userId"),
        ({"phoneNumber": "12", "countryCode": "+91"}, "phoneNumber"),
        ({"phoneNumber": "9967536783", "countryCode": "+999"}, "countryCode"),
        ({**PHONE, "traits": {"email": "not an email"}}, "traits.email"),
        ({**PHONE, "traits": {"name": "x" * 256}}, "traits.name"),
        ({**PHONE, "traits": {"y" * 101: "long name"}}, f"traits.{'y' * 40}"),
        ({**PHONE, "traits": {"city": "nul\x00char"}}, "traits.city"),
        ({**PHONE, "tags": ["t" * 101]}, "tags"),
        ({**PHONE, "tags": "vip"}, "tags"),
        ({**PHONE, "traits": {"phone": "+911234567890"}}, "traits.phone"),
        ({"userId": "u" * 256}, "userId"),
        ({"userId": 1.5}, "userId"),
        ({**PHONE, "traits": ["not", "an", "object"]}, "traits"),
    ],
)
def test_invalid_input_is_422_naming_the_field(api, payload, field):
    response = api.track_user(payload)

    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"result", "code", "message", "field"}
    assert body["result"] is False
    assert body["field"] == field
    assert body["message"]
    assert not Contact.objects.exists()


def test_list_value_for_a_text_attribute_is_refused(api):
    AttributeFactory(label="City", key="city", type=FieldType.TEXT)

    response = api.track_user({**PHONE, "traits": {"City": ["Pune", "Goa"]}})

    assert response.status_code == 422
    assert response.json()["field"] == "traits.City"


def test_one_upsert_makes_a_constant_number_of_statements(api):
    """Whatever the number of traits and tags: key, rate-limit history, field registry,
    match, tags, row, tag links, activity."""
    phone = {"phoneNumber": "+919967536783"}
    api.track_user({**phone, "traits": {"Plan": "a", "Seats": 1}, "tags": ["t0"]})
    counts = []
    for n in (1, 5):
        traits = {"Plan": f"p{n}", "Seats": n, "name": f"N{n}"}
        with CaptureQueriesContext(connection) as statements:
            response = api.track_user(
                {**phone, "traits": traits, "tags": [f"t{n}-{i}" for i in range(n)]}
            )
        assert response.json()["message"] == "User updated"
        counts.append(len(statements))

    assert counts[0] == counts[1] <= 21


def test_a_new_contact_makes_eight_statements_and_no_alias_read(api):
    """Key, rate-limit count, field registry, the locked read of the contacts owning the
    phone, tags, the contact's INSERT (which checks the merges' aliases itself), its tag link,
    its activity; as many as before merges brought aliases."""
    body = {"traits": {"name": "Asha", "email": "asha@example.com", "Plan": "a"}, "tags": ["t"]}
    api.track_user({"phoneNumber": "+919967536700", **body})  # the field and the tag exist
    with CaptureQueriesContext(connection) as statements:
        response = api.track_user({"phoneNumber": "+919967536783", **body})

    assert response.json()["message"] == "User created"
    # SAVEPOINT and RELEASE stand for BEGIN and COMMIT inside the test's own transaction.
    sqls = [
        q["sql"]
        for q in statements.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    tables = [re.search(r'(?:FROM|INTO) "(\w+)"', sql).group(1) for sql in sqls]
    assert tables == [
        "contacts_apikey",
        "api_ratewindow",
        "contacts_attribute",
        "contacts_contact",
        "contacts_tag",
        "contacts_contact",
        "contacts_contacttag",
        "contacts_activity",
    ]
    assert sqls[5].startswith('INSERT INTO "contacts_contact"')
    assert "contacts_contactalias" in sqls[5]  # the aliases are checked by the insert

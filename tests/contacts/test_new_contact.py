"""A new contact's INSERT that checks the merges' aliases itself, and the upsert around it:
a merged-away phone or user id reaches the survivor and never brings the duplicate back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts import services
from contacts.models import Contact, ContactAlias
from contacts.phones import normalize_phone
from contacts.selectors import contact_match
from contacts.selectors.listing import search_q
from contacts.services import Actor
from contacts.services.new_contact import contact_insert_unless_alias
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def unsaved(*, phone: str | None = None, user_id: str | None = None) -> Contact:
    now = timezone.now()
    contact = Contact(user_id=user_id, name="Asha Rao", created_at=now, updated_at=now)
    if phone:
        parsed = normalize_phone(phone, "91")
        contact.phone, contact.country_code = parsed.e164, parsed.country_code
        contact.phone_number = parsed.national_number
    return contact


@pytest.fixture
def merged() -> tuple[Contact, Contact]:
    """A survivor and the duplicate (phone 9700000002, user id crm-7) merged into it."""
    survivor = make_contact(phone_number="9700000001", user_id="crm-1", name="Asha")
    other = make_contact(phone_number="9700000002", user_id="crm-7", name="Asha K")
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])
    return survivor, other


def test_the_insert_writes_every_column_and_the_instance_is_saved():
    contact = unsaved(phone="9800000001", user_id="u-1")

    assert contact_insert_unless_alias(contact) is True

    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.phone, stored.user_id, stored.name) == ("+919800000001", "u-1", "Asha Rao")
    assert (stored.version, stored.traits, stored.whatsapp_opted) == (1, {}, False)
    assert stored.created_at == contact.created_at
    assert not contact._state.adding
    contact.name = "Asha R"
    contact.save(update_fields=["name"])  # an UPDATE of the row just inserted
    assert Contact.objects.get(pk=contact.pk).name == "Asha R"
    # The list's search index (SQLite: triggers; PostgreSQL: trigram indexes) has it.
    assert Contact.objects.filter(search_q("800000001")).get() == stored


@pytest.mark.parametrize(
    "identity",
    [
        {"phone": "9700000002"},
        {"user_id": "crm-7"},
        {"phone": "9800000009", "user_id": "crm-7"},
        {"phone": "9700000002", "user_id": "new-id"},
    ],
)
def test_the_insert_is_stopped_by_a_merged_phone_or_user_id(merged, identity):
    contact = unsaved(**identity)

    with CaptureQueriesContext(connection) as statements:
        assert contact_insert_unless_alias(contact) is False

    assert len(statements) == 1
    assert contact.pk is None
    assert Contact.objects.count() == 1


def test_the_owners_only_match_reads_no_alias_when_nothing_owns_the_values(merged):
    survivor, _ = merged
    phone = normalize_phone("9700000002", "91")

    with CaptureQueriesContext(connection) as statements:
        assert contact_match(user_id=None, phone=phone, owners_only=True) is None
    assert len(statements) == 1
    assert "contactalias" not in statements[0]["sql"]
    # Without it (and once the insert is stopped), the alias is followed.
    assert contact_match(user_id=None, phone=phone) == survivor
    # A contact that owns one of the values: the other's alias is still read (a conflict).
    owner = make_contact(user_id="u-9")
    with pytest.raises(services.ContactConflict):
        contact_match(user_id="u-9", phone=phone, owners_only=True)
    assert contact_match(user_id="u-9", phone=None, owners_only=True) == owner


@pytest.mark.parametrize(
    ("identity", "kind"),
    [
        ({"phone_number": "9700000002", "country_code": "91"}, ContactAlias.Kind.PHONE),
        ({"user_id": "crm-7"}, ContactAlias.Kind.USER_ID),
        ({"user_id": "crm-7", "phone_number": "9700000001", "country_code": "91"}, "both"),
    ],
)
def test_an_upsert_through_a_merged_value_updates_the_survivor(merged, identity, kind):
    assert ContactAlias.objects.filter(kind=kind).exists() or kind == "both"
    survivor, _ = merged

    result = services.contact_upsert(actor=Actor.system(), values={"name": "Asha M"}, **identity)

    assert (result.contact.pk, result.created, result.changed) == (survivor.pk, False, True)
    assert list(Contact.objects.values_list("pk", "name")) == [(survivor.pk, "Asha M")]
    # An alias stays an alias: it is not written onto the survivor.
    survivor.refresh_from_db()
    assert (survivor.phone, survivor.user_id) == ("+919700000001", "crm-1")


def test_an_upsert_of_a_new_phone_creates_the_contact_in_one_insert():
    with CaptureQueriesContext(connection) as statements:
        result = services.contact_upsert(
            actor=Actor.system(), phone_number="9800000001", country_code="91", values={}
        )

    assert result.created
    insert = 'INSERT INTO "contacts_contact"'
    inserts = [q["sql"] for q in statements if q["sql"].startswith(insert)]
    assert len(inserts) == 1
    reads = [q["sql"] for q in statements if q["sql"].startswith("SELECT")]
    assert [sql for sql in reads if "contacts_contact" in sql] == reads[1:]  # after the fields
    assert len(reads) == 2  # the field registry, the owners' locked read; no alias read
    assert Contact.objects.get().phone == "+919800000001"

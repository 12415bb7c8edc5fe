"""Merging duplicates into a survivor, aliases reaching it, and unmerging."""

from __future__ import annotations

import pytest

from contacts import services
from contacts.models import Activity, Contact, ContactAlias
from contacts.phones import normalize_phone
from contacts.selectors import contact_match
from contacts.selectors.listing import search_q
from contacts.selectors.match import contact_id_resolve
from contacts.services import Actor, ImportRow, MergeRefused
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def tag_names(contact: Contact) -> list[str]:
    return sorted(contact.tags.values_list("name", flat=True))


@pytest.fixture
def pair() -> tuple[Contact, Contact]:
    services.attribute_create(label="City", key="city", type="text")
    survivor = make_contact(
        phone_number="9700000001", name="Asha", email="", tags=["vip"], city="Pune"
    )
    other = make_contact(
        phone_number="9700000002",
        user_id="crm-7",
        name="Asha K",
        email="asha@example.com",
        tags=["lead"],
        city="Mumbai",
    )
    services.contact_event_record(actor=Actor.system(), contact_id=other.pk, event="signed up")
    return survivor, other


def test_the_survivors_value_wins_unless_another_is_picked(pair):
    survivor, other = pair

    services.contacts_merge(
        actor=Actor.system(),
        survivor_id=survivor.pk,
        other_ids=[other.pk],
        picks={"city": other.pk},
    )

    survivor.refresh_from_db()
    assert survivor.name == "Asha"  # the survivor had one
    assert survivor.email == "asha@example.com"  # the survivor had none
    assert survivor.traits["city"] == "Mumbai"  # picked
    assert survivor.user_id == "crm-7"  # filled in: the survivor had none
    assert tag_names(survivor) == ["lead", "vip"]
    assert not Contact.objects.filter(pk=other.pk).exists()


def test_activity_moves_and_the_merged_entry_keeps_a_full_snapshot(pair):
    survivor, other = pair

    entry = services.contacts_merge(
        actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk]
    )

    assert entry.kind == Activity.Kind.MERGED
    events = Activity.objects.filter(contact=survivor, kind=Activity.Kind.EVENT)
    assert list(events.values_list("changes__event", flat=True)) == ["signed up"]
    (snapshot,) = entry.changes["merged"]
    assert snapshot["id"] == other.pk
    assert snapshot["phone"] == "+919700000002"
    assert snapshot["email"] == "asha@example.com"
    assert snapshot["traits"] == {"city": "Mumbai"}
    assert snapshot["tags"] == ["lead"]


def test_a_merged_phone_and_user_id_reach_the_survivor_and_never_create_the_duplicate(pair):
    survivor, other = pair
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])

    assert contact_match(user_id=None, phone=normalize_phone("9700000002", "91")) == survivor
    assert contact_match(user_id="crm-7", phone=None) == survivor
    result = services.contact_upsert(
        actor=Actor.system(), phone_number="9700000002", country_code="91", values={"name": "X"}
    )
    assert (result.contact.pk, result.created) == (survivor.pk, False)
    outcomes = services.contacts_import_batch(
        actor=Actor.system(),
        rows=[ImportRow(normalize_phone("9700000002", "91"), {"email": "new@example.com"})],
    )
    assert outcomes == ["updated"]
    survivor.refresh_from_db()
    assert (survivor.name, survivor.email, survivor.phone) == (
        "X",
        "new@example.com",
        "+919700000001",
    )
    assert Contact.objects.count() == 1
    assert contact_id_resolve(other.pk) == survivor.pk


def test_refusals_itself_already_merged_and_changed_since(pair):
    survivor, other = pair
    with pytest.raises(MergeRefused, match="into itself"):
        services.contacts_merge(
            actor=Actor.system(), survivor_id=survivor.pk, other_ids=[survivor.pk]
        )
    with pytest.raises(MergeRefused, match="changed by someone else"):
        services.contacts_merge(
            actor=Actor.system(),
            survivor_id=survivor.pk,
            other_ids=[other.pk],
            expected_versions={other.pk: other.version - 1},
        )
    assert Contact.objects.filter(pk=other.pk).exists()  # nothing was merged
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])
    with pytest.raises(MergeRefused, match=f"already merged into contact {survivor.pk}"):
        services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])


def test_unmerge_brings_the_contacts_back_and_keeps_later_changes_on_the_survivor(pair):
    survivor, other = pair
    entry = services.contacts_merge(
        actor=Actor.system(),
        survivor_id=survivor.pk,
        other_ids=[other.pk],
        picks={"city": other.pk},
    )
    services.contact_update(actor=Actor.system(), contact_id=survivor.pk, values={"city": "Delhi"})

    (restored,) = services.contact_unmerge(actor=Actor.system(), merge_id=entry.pk)

    assert restored.pk == other.pk
    restored.refresh_from_db()
    assert (restored.phone, restored.user_id, restored.email) == (
        "+919700000002",
        "crm-7",
        "asha@example.com",
    )
    assert restored.traits == {"city": "Mumbai"}
    assert tag_names(restored) == ["lead"]
    assert restored.activities.filter(kind=Activity.Kind.EVENT).count() == 1
    survivor.refresh_from_db()
    assert survivor.traits["city"] == "Delhi"  # changed since the merge: stays
    assert survivor.email == ""  # given by the merge, unchanged since: given back
    assert survivor.user_id is None
    assert tag_names(survivor) == ["vip"]
    assert not ContactAlias.objects.exists()
    assert contact_match(user_id=None, phone=normalize_phone("9700000002", "91")) == restored
    with pytest.raises(MergeRefused, match="already undone"):
        services.contact_unmerge(actor=Actor.system(), merge_id=entry.pk)


def test_a_survivor_merged_again_carries_its_aliases_along(pair):
    survivor, other = pair
    third = make_contact(phone_number="9700000003")
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])
    services.contacts_merge(actor=Actor.system(), survivor_id=third.pk, other_ids=[survivor.pk])

    assert contact_match(user_id=None, phone=normalize_phone("9700000002", "91")) == third
    assert contact_id_resolve(other.pk) == third.pk
    first = Activity.objects.filter(kind=Activity.Kind.MERGED).order_by("pk").first()
    with pytest.raises(MergeRefused, match="undo that merge first"):
        services.contact_unmerge(actor=Actor.system(), merge_id=first.pk)


def test_zero_is_a_value_and_false_is_not():
    services.attribute_create(label="Score", key="score", type="number")
    survivor = make_contact(phone_number="9700000001")
    other = make_contact(phone_number="9700000002", score=0, whatsapp_opted=True)

    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])

    survivor.refresh_from_db()
    assert (survivor.traits, survivor.whatsapp_opted) == ({"score": 0}, True)


def test_a_new_contact_with_a_merged_away_phone_is_refused_as_the_duplicate(pair):
    survivor, other = pair
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])

    with pytest.raises(services.DuplicateContact, match=f"belongs to contact {survivor.pk}"):
        make_contact(phone_number="9700000002")
    with pytest.raises(services.DuplicateContact, match='user id "crm-7" already exists'):
        make_contact(user_id="crm-7")  # the survivor took it: it had none


def test_a_list_search_by_a_merged_phone_or_user_id_finds_the_survivor(pair):
    survivor, other = pair
    services.contact_update(actor=Actor.system(), contact_id=survivor.pk, values={"user_id": "c1"})
    services.contacts_merge(actor=Actor.system(), survivor_id=survivor.pk, other_ids=[other.pk])
    with pytest.raises(services.DuplicateContact, match="user id crm-7 belongs to contact"):
        make_contact(user_id="crm-7")

    for search in ("+91 97000 00002", "crm-7"):
        assert list(Contact.objects.filter(search_q(search))) == [survivor], search

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import Activity, Contact, FieldType
from contacts.services import (
    Actor,
    ServiceError,
    VersionConflict,
    contact_change_restore,
    contact_field_update,
)
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db


def change(contact: Contact, key: str, value, user=None) -> Activity:
    actor = Actor.web(user) if user else Actor.system()
    contact_field_update(actor=actor, contact_id=contact.pk, field_key=key, value=value)
    return contact.activities.first()


def test_restore_puts_the_earlier_value_back_and_records_it(editor):
    contact = make_contact(name="Asha")
    entry = change(contact, "name", "Asha K")
    contact_change_restore(actor=Actor.web(editor), activity_id=entry.pk, field_key="name")
    contact.refresh_from_db()
    assert contact.name == "Asha"
    latest = contact.activities.first()
    assert latest.changes["fields"] == {"name": ["Asha K", "Asha"]}
    assert latest.actor_user == editor


def test_restore_of_a_trait_set_on_creation_clears_it(editor):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    contact = make_contact(city="Pune")
    created = contact.activities.get()
    contact_change_restore(actor=Actor.web(editor), activity_id=created.pk, field_key="city")
    contact.refresh_from_db()
    assert "city" not in contact.traits


def test_restore_refused_when_the_value_changed_since(editor):
    contact = make_contact(name="Asha")
    entry = change(contact, "name", "Asha K")
    change(contact, "name", "Asha Kumar")
    with pytest.raises(VersionConflict, match="Asha Kumar") as refused:
        contact_change_restore(actor=Actor.web(editor), activity_id=entry.pk, field_key="name")
    assert refused.value.current_value == "Asha Kumar"
    contact.refresh_from_db()
    assert contact.name == "Asha Kumar"


def test_identity_and_events_are_not_restorable(editor):
    contact = make_contact(name="Asha")
    created = contact.activities.get()
    with pytest.raises(ServiceError, match="cannot be restored"):
        contact_change_restore(actor=Actor.web(editor), activity_id=created.pk, field_key="phone")
    with pytest.raises(ServiceError, match="cannot be restored"):
        contact_change_restore(actor=Actor.web(editor), activity_id=created.pk, field_key="email")


def test_timeline_offers_restore_to_editors_only(editor_client, viewer_client):
    contact = make_contact(name="Asha")
    change(contact, "name", "Asha K")
    url = reverse("contacts:detail", args=[contact.pk])
    assert "Restore the earlier value" in editor_client.get(url).content.decode()
    assert "Restore the earlier value" not in viewer_client.get(url).content.decode()
    page = editor_client.get(url).content.decode()
    assert 'data-testid="restore-phone"' not in page


def test_restore_view_restores_and_refreshes(editor_client, viewer_client):
    contact = make_contact(name="Asha")
    entry = change(contact, "name", "Asha K")
    url = reverse("contacts:change-restore", args=[contact.pk, entry.pk, "name"])
    assert viewer_client.post(url).status_code == 403
    response = editor_client.post(url, headers={"HX-Request": "true"})
    assert response.headers["HX-Refresh"] == "true"
    contact.refresh_from_db()
    assert contact.name == "Asha"


def test_restore_view_shows_the_current_value_when_refused(editor_client, manager):
    contact = make_contact(name="Asha")
    entry = change(contact, "name", "Asha K")
    change(contact, "name", "Asha Kumar", user=manager)
    url = reverse("contacts:change-restore", args=[contact.pk, entry.pk, "name"])
    page = editor_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert "Name was not restored: it changed since, and is now Asha Kumar." in page
    contact.refresh_from_db()
    assert contact.name == "Asha Kumar"


def test_restore_view_404s_for_a_change_of_another_contact(editor_client):
    one, other = make_contact(name="One"), make_contact(name="Other")
    entry = change(one, "name", "Uno")
    url = reverse("contacts:change-restore", args=[other.pk, entry.pk, "name"])
    assert editor_client.post(url).status_code == 404

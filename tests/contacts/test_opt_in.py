"""Opt-in as a record: setting or clearing WhatsApp opted stamps when and from where."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from contacts.models import ListPreference
from contacts.services import Actor, contact_field_update, contact_upsert
from contacts.services.plan import NoValues, OptIn, plan_change
from tests.factories import make_contact

STAMP = OptIn(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), "Web: ana")


def values(**builtin):
    return NoValues(builtin=builtin)


def test_plan_stamps_a_change_of_whatsapp_opted_only():
    current = {"name": "Asha", "whatsapp_opted": False, "traits": {}}
    plan = plan_change(current, values(whatsapp_opted=True), opt_in=STAMP)
    assert plan.opt_in_changed
    assert plan.columns["opted_at"] == STAMP.at
    assert plan.columns["opt_in_source"] == "Web: ana"
    assert "opted_at" not in plan.changes  # the entry of the change itself is the history
    same = plan_change(current, values(whatsapp_opted=False, name="A"), opt_in=STAMP)
    assert not same.opt_in_changed and "opted_at" not in same.columns


def test_plan_stamps_a_new_contact_given_a_value():
    plan = plan_change(None, values(whatsapp_opted=False), opt_in=STAMP)
    assert plan.opt_in_changed and plan.columns["opt_in_source"] == "Web: ana"
    assert "opted_at" not in plan_change(None, values(name="A"), opt_in=STAMP).columns


@pytest.mark.django_db
def test_web_edit_records_user_and_time(editor):
    contact = make_contact(name="Asha")
    assert contact.opted_at is None and contact.opt_in_source == ""
    contact_field_update(
        actor=Actor.web(editor), contact_id=contact.pk, field_key="whatsapp_opted", value=True
    )
    contact.refresh_from_db()
    assert contact.opted_at is not None
    assert contact.opt_in_source == f"Web: {editor.get_username()}"
    entry = contact.activities.first()
    assert entry.changes["fields"]["whatsapp_opted"] == [False, True]


@pytest.mark.django_db
def test_upsert_says_whether_opt_in_changed():
    first = contact_upsert(actor=Actor.system(), user_id="u1", values={"whatsapp opted": True})
    again = contact_upsert(actor=Actor.system(), user_id="u1", values={"name": "U"})
    assert first.opt_in_changed and not again.opt_in_changed
    assert first.contact.opt_in_source == "System"


@pytest.mark.django_db
def test_opt_in_columns_filter_and_export(viewer_client, viewer, editor):
    opted = make_contact(name="Asha", whatsapp_opted=True, actor=Actor.web(editor))
    make_contact(name="Bala")
    ListPreference.objects.create(user=viewer, columns=["name", "opted_at", "opt_in_source"])
    page = viewer_client.get(reverse("contacts:list"), {"f": "opt_in_source:contains:web"})
    html = page.content.decode()
    assert "Asha" in html and "Bala" not in html
    assert "Opted in at" in html and "Opt-in source" in html
    response = viewer_client.get(reverse("contacts:list-export"), {"f": "opted_at:set"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["Name"] for row in rows] == ["Asha"]
    assert rows[0]["Opt-in source"] == f"Web: {editor.get_username()}"
    opted.refresh_from_db()
    assert rows[0]["Opted in at"].startswith(opted.opted_at.strftime("%Y-%m-%d"))

"""The batch writers' SQL (``batch_sql``): the same results through ``executemany`` (SQLite)
and through COPY into a staging table (PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import Contact, ContactTag
from contacts.services import batch_sql, tags_get_or_create

COLUMNS = (
    *("phone", "country_code", "phone_number", "name", "traits", "created_at", "updated_at"),
    *("email", "whatsapp_opted", "opt_in_source", "version"),
)


def new_row(national: str, name: str, traits: dict | None = None) -> tuple:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    traits_json = json.dumps(traits or {})
    return (f"+91{national}", "91", national, name, traits_json, now, now, "", False, "", 1)


@pytest.mark.django_db
def test_inserted_rows_get_ids_in_their_order_and_a_repeated_phone_inserts_nothing():
    ids = batch_sql.insert_returning_ids(
        Contact,
        COLUMNS,
        [new_row("9800000002", "B", {"n": 1.5}), new_row("9800000001", 'A, "q"\t\\')],
        key="phone",
    )
    assert set(ids) == {"+919800000002", "+919800000001"}
    assert ids["+919800000002"] < ids["+919800000001"]
    stored = {c.phone: (c.name, c.traits) for c in Contact.objects.all()}
    assert stored == {"+919800000002": ("B", {"n": 1.5}), "+919800000001": ('A, "q"\t\\', {})}
    with pytest.raises(IntegrityError), transaction.atomic():
        batch_sql.insert_returning_ids(
            Contact, COLUMNS, [new_row("9800000003", "C"), new_row("9800000001", "A2")], "phone"
        )
    assert Contact.objects.count() == 2
    assert batch_sql.insert_returning_ids(Contact, COLUMNS, [], key="phone") == {}


@pytest.mark.django_db
def test_updates_by_id_and_an_id_named_twice_ends_with_its_last_values():
    ids = batch_sql.insert_returning_ids(
        Contact, COLUMNS, [new_row("9800000001", "A"), new_row("9800000002", "B")], "phone"
    )
    a, b = ids["+919800000001"], ids["+919800000002"]
    batch_sql.update_by_id(
        Contact,
        ("name", "traits", "version"),
        [
            ("A1", json.dumps({"x": 1}), 2, a),
            ("B1", "{}", 2, b),
            ("A2", json.dumps({"x": 2}), 3, a),
        ],
    )
    stored = {c.pk: (c.name, c.traits, c.version) for c in Contact.objects.all()}
    assert stored == {a: ("A2", {"x": 2}, 3), b: ("B1", {}, 2)}


@pytest.mark.django_db
def test_links_that_exist_are_skipped_and_the_staging_tables_start_empty_each_time():
    ids = batch_sql.insert_returning_ids(Contact, COLUMNS, [new_row("9800000001", "A")], "phone")
    contact = ids["+919800000001"]
    vip, new = sorted(tags_get_or_create(names=["VIP", "New"]), key=lambda t: t.name != "VIP")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ("contact_id", "tag_id", "created_at")
    batch_sql.insert_rows(ContactTag, columns, [(contact, vip.pk, now)], ignore_conflicts=True)
    batch_sql.insert_rows(
        ContactTag,
        columns,
        [(contact, vip.pk, now), (contact, new.pk, now), (contact, new.pk, now)],
        ignore_conflicts=True,
    )
    links = sorted(ContactTag.objects.values_list("contact_id", "tag__name"))
    assert links == [(contact, "New"), (contact, "VIP")]
    # A second write in the same transaction sees none of the first one's staged rows.
    batch_sql.update_by_id(Contact, ("name",), [("A1", contact)])
    batch_sql.update_by_id(Contact, ("name",), [("A2", contact)])
    assert Contact.objects.get().name == "A2"

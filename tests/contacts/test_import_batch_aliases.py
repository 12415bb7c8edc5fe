"""A batch whose rows reach one contact twice: a survivor's phone and phones merged into it.

Each later row applies on top of the earlier ones, exactly as the same rows sent one at a
time through ``contact_upsert`` would: the stored values, version, opt-in stamp, tag links
and activity entries are the same both ways.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from contacts import services
from contacts.models import Activity, Contact
from contacts.phones import normalize_phone
from contacts.services import Actor, ImportRow
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class _Rollback(Exception):
    pass


def merged_trio() -> Contact:
    """A survivor (+919700000001) with two contacts merged into it (…02 and …03)."""
    services.attribute_create(label="City", key="city", type="text")
    services.attribute_create(label="Score", key="score", type="number")
    survivor = make_contact(phone_number="9700000001", name="Asha", tags=["vip"], city="Pune")
    others = [make_contact(phone_number=f"970000000{n}", name=f"Other {n}") for n in (2, 3)]
    services.contacts_merge(
        actor=Actor.system(), survivor_id=survivor.pk, other_ids=[c.pk for c in others]
    )
    survivor.refresh_from_db()
    return survivor


ROWS: list[tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...]]] = [
    ("9700000002", {"name": "Via B", "whatsapp_opted": True}, {"city": "Delhi"}, ("Gold",)),
    ("9700000001", {"email": "asha@mail.in"}, {"score": 3}, ("gold", "VIP", "New")),
    ("9700000003", {"whatsapp_opted": False}, {"city": "Goa", "score": 3}, ()),
]


def state(survivor: Contact, after: int) -> tuple[Any, ...]:
    contact = Contact.objects.get(pk=survivor.pk)
    entries = Activity.objects.filter(contact=contact, id__gt=after).order_by("id")
    return (
        Contact.objects.count(),
        contact.phone,
        contact.name,
        contact.email,
        contact.whatsapp_opted,
        contact.opted_at,
        contact.opt_in_source,
        contact.traits,
        contact.version,
        sorted(contact.tags.values_list("name", flat=True)),
        [(a.kind, a.source, a.upload_job_id, a.changes) for a in entries],
    )


def outcome(survivor: Contact, write) -> tuple[list[str], tuple[Any, ...]]:
    """What ``write`` returns and leaves stored; rolled back afterwards."""
    after = Activity.objects.order_by("-id").values_list("id", flat=True).first()
    try:
        with transaction.atomic():
            result = write()
            found = (result, state(survivor, after))
            raise _Rollback
    except _Rollback:
        pass
    return found


def test_rows_reaching_one_contact_apply_in_order_like_single_writes(editor, monkeypatch):
    survivor = merged_trio()
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    actor = Actor.upload(user=editor, upload_job_id=5)

    def batch() -> list[str]:
        rows = [
            ImportRow(normalize_phone(national, "91"), builtin, traits, tags)
            for national, builtin, traits, tags in ROWS
        ]
        outcomes = services.contacts_import_batch(actor=actor, rows=rows)
        assert outcomes.opt_in_changed == 2
        return list(outcomes)

    def singles() -> list[str]:
        results = [
            services.contact_upsert(
                actor=actor,
                phone_number=national,
                country_code="91",
                values={**builtin, **traits},
                tags=tags,
            )
            for national, builtin, traits, tags in ROWS
        ]
        assert {r.contact.pk for r in results} == {survivor.pk}
        return ["created" if r.created else "updated" for r in results]

    batch_result, batch_state = outcome(survivor, batch)
    single_result, single_state = outcome(survivor, singles)

    assert batch_result == single_result == ["updated", "updated", "updated"]
    assert batch_state == single_state
    (count, phone, name, email, opted, opted_at, source, traits, version, tags, entries) = (
        batch_state
    )
    # Every row's change is kept: none is overwritten by a later row planned from old values.
    assert (count, phone, name, email, opted) == (
        1,
        "+919700000001",
        "Via B",
        "asha@mail.in",
        False,
    )
    assert (opted_at, source) == (NOW, "Upload #5 by editor")
    assert traits == {"city": "Goa", "score": 3}
    assert version == survivor.version + 3
    assert tags == ["Gold", "New", "vip"]
    assert [changes for *_, changes in entries] == [
        {
            "fields": {
                "name": ["Asha", "Via B"],
                "whatsapp_opted": [False, True],
                "city": ["Pune", "Delhi"],
            },
            "tags_added": ["Gold"],
        },
        {"fields": {"email": ["", "asha@mail.in"], "score": [None, 3]}, "tags_added": ["New"]},
        {"fields": {"whatsapp_opted": [True, False], "city": ["Delhi", "Goa"]}},
    ]

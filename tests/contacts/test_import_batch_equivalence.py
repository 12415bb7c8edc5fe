"""contacts_import_batch: every outcome, stored value, tag link and activity entry, spelled out.

The expectations are written by hand from the rules (match by phone, merge traits, add-only
tags, one activity per changed contact), so a faster implementation must give the same. Each
batch of the main test also goes through :func:`import_checked`: the set-wise writer must
carry out exactly the plans the single-contact path makes for the same rows (its matcher,
its reads of the current values and tags, the one ``plan_change``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections
from django.test.utils import CaptureQueriesContext

from contacts import services
from contacts.models import Activity, Contact, ContactTag, Source, Tag
from contacts.phones import normalize_phone
from contacts.selectors.match import contact_match
from contacts.services import (
    IMPORT_CREATED,
    IMPORT_UNCHANGED,
    IMPORT_UPDATED,
    Actor,
    ContactInputError,
    ImportRow,
    imports,
)
from contacts.services.contacts import current_values
from contacts.services.plan import ChangePlan, plan_change, tags_by_key
from contacts.services.tags import contact_tag_keys
from tests.factories import make_contact

CREATED, UPDATED, UNCHANGED = IMPORT_CREATED, IMPORT_UPDATED, IMPORT_UNCHANGED


def row(
    national: str,
    builtin: dict[str, Any] | None = None,
    traits: dict[str, Any] | None = None,
    tags: tuple[str, ...] = (),
) -> ImportRow:
    return ImportRow(normalize_phone(national, "91"), builtin or {}, traits or {}, tags)


def e164(national: str) -> str:
    return f"+91{national}"


def contacts() -> dict[str, tuple[Any, ...]]:
    """Every contact by phone: user id, stored columns, traits and version."""
    return {
        c.phone: (
            c.user_id,
            c.country_code,
            c.phone_number,
            c.name,
            c.email,
            c.whatsapp_opted,
            c.traits,
            c.version,
        )
        for c in Contact.objects.order_by("phone")
    }


def links() -> list[tuple[str, str]]:
    return sorted(ContactTag.objects.values_list("contact__phone", "tag__name"))


def activity_after(last_id: int) -> list[tuple[Any, ...]]:
    """Activity entries written after ``last_id``: phone, kind, who, job and changes."""
    return [
        (
            a.contact.phone,
            a.kind,
            a.source,
            a.actor_user.username if a.actor_user else None,
            a.actor_api_key_id,
            a.upload_job_id,
            a.changes,
        )
        for a in Activity.objects.filter(id__gt=last_id)
        .select_related("contact", "actor_user")
        .order_by("id")
    ]


def last_activity_id() -> int:
    return Activity.objects.order_by("-id").values_list("id", flat=True).first() or 0


def updated_at() -> dict[str, Any]:
    return dict(Contact.objects.values_list("phone", "updated_at"))


def single_path_plans(rows: list[ImportRow], tags: list[Tag]) -> list[ChangePlan]:
    """Each row's plan as ``contact_upsert`` makes it: match, read, ``plan_change``."""
    plans = []
    for item in rows:
        contact = contact_match(user_id=None, phone=item.phone)
        row_tags = services.tags_get_or_create(names=[*(t.name for t in tags), *item.tags])
        plans.append(
            plan_change(
                None if contact is None else current_values(contact),
                item,
                tags=tags_by_key(row_tags),
                current_tag_keys=contact_tag_keys(contact.pk) if contact else (),
                phone=item.phone,
            )
        )
    return plans


def import_checked(actor: Actor, rows: list[ImportRow], tags: Sequence[Tag] = ()) -> list[str]:
    """``contacts_import_batch``, checked to carry out the single-contact path's plans."""
    plans = single_path_plans(rows, list(tags))
    before, start, links_before = contacts(), last_activity_id(), links()
    outcomes = services.contacts_import_batch(actor=actor, rows=rows, tags=tags)
    expected_outcomes = [
        CREATED if plan.creating else UPDATED if plan.changed else UNCHANGED for plan in plans
    ]
    assert outcomes == expected_outcomes
    kinds = {True: CREATED, False: UPDATED}
    recorded = {phone: (kind, changes) for phone, kind, *_, changes in activity_after(start)}
    assert recorded == {
        item.phone.e164: (kinds[plan.creating], plan.activity)
        for item, plan in zip(rows, plans, strict=True)
        if plan.changed
    }
    after = contacts()
    for item, plan in zip(rows, plans, strict=True):
        phone = item.phone.e164
        if plan.creating:
            stored = (None, *(plan.columns[k] for k in ("country_code", "phone_number")))
            defaults = {"name": "", "email": "", "whatsapp_opted": False}
            values = tuple(plan.columns.get(k, v) for k, v in defaults.items())
            assert after[phone] == (*stored, *values, plan.traits, 1)
        elif plan.changed:
            user_id, code, national, name, email, opted, traits, version = before[phone]
            columns = {"name": name, "email": email, "whatsapp_opted": opted, **plan.columns}
            new_traits = traits if plan.traits is None else plan.traits
            assert after[phone] == (
                *(user_id, code, national),
                *(columns["name"], columns["email"], columns["whatsapp_opted"]),
                *(new_traits, version + 1),
            )
        else:
            assert after[phone] == before[phone]
    added = {
        (item.phone.e164, name)
        for item, plan in zip(rows, plans, strict=True)
        for name in plan.tags_added
    }
    assert set(links()) == set(links_before) | added
    return outcomes


@pytest.mark.django_db
def test_batches_give_the_same_outcomes_values_links_and_activity(editor):
    gita = make_contact(phone_number="9800000010", user_id="ext-10", name="Gita", tags=["VIP"])
    upload = Actor.upload(user=editor, upload_job_id=1)

    # --- 1: new contacts only -----------------------------------------------------------
    start = last_activity_id()
    outcomes = import_checked(
        upload,
        [
            row(
                "9800000001",
                {"name": "Asha", "email": "asha@mail.in", "whatsapp_opted": True},
                {"city": "Pune", "score": 5, "interests": ["books", "toys"]},
                ("VIP",),
            ),
            row("9800000002", {"name": "Ravi"}, {"score": 5}),
            row("9800000003", {}, {}, ("Gold", " gold ")),
            row("9800000007", {"name": "Kabir"}, {"interests": ["books", "toys"], "vip": True}),
        ],
    )
    assert outcomes == [CREATED, CREATED, CREATED, CREATED]
    assert contacts() == {
        e164("9800000001"): (
            None,
            "91",
            "9800000001",
            "Asha",
            "asha@mail.in",
            True,
            {"city": "Pune", "score": 5, "interests": ["books", "toys"]},
            1,
        ),
        e164("9800000002"): (None, "91", "9800000002", "Ravi", "", False, {"score": 5}, 1),
        e164("9800000003"): (None, "91", "9800000003", "", "", False, {}, 1),
        e164("9800000007"): (
            None,
            "91",
            "9800000007",
            "Kabir",
            "",
            False,
            {"interests": ["books", "toys"], "vip": True},
            1,
        ),
        e164("9800000010"): ("ext-10", "91", "9800000010", "Gita", "", False, {}, 1),
    }
    assert links() == [
        (e164("9800000001"), "VIP"),
        (e164("9800000003"), "Gold"),
        (e164("9800000010"), "VIP"),
    ]
    job1 = (Source.UPLOAD, "editor", None, 1)
    assert activity_after(start) == [
        (
            e164("9800000001"),
            CREATED,
            *job1,
            {
                "fields": {
                    "phone": [None, e164("9800000001")],
                    "name": [None, "Asha"],
                    "email": [None, "asha@mail.in"],
                    "whatsapp_opted": [None, True],
                    "city": [None, "Pune"],
                    "score": [None, 5],
                    "interests": [None, ["books", "toys"]],
                },
                "tags_added": ["VIP"],
            },
        ),
        (
            e164("9800000002"),
            CREATED,
            *job1,
            {
                "fields": {
                    "phone": [None, e164("9800000002")],
                    "name": [None, "Ravi"],
                    "score": [None, 5],
                }
            },
        ),
        (
            e164("9800000003"),
            CREATED,
            *job1,
            {"fields": {"phone": [None, e164("9800000003")]}, "tags_added": ["Gold"]},
        ),
        (
            e164("9800000007"),
            CREATED,
            *job1,
            {
                "fields": {
                    "phone": [None, e164("9800000007")],
                    "name": [None, "Kabir"],
                    "interests": [None, ["books", "toys"]],
                    "vip": [None, True],
                }
            },
        ),
    ]
    created = Contact.objects.get(phone=e164("9800000001"))
    assert created.created_at == created.updated_at

    # Traits that are not an object (written by hand, not by the services) count as empty.
    Contact.objects.filter(phone=e164("9800000003")).update(traits=["odd"])

    # --- 2: existing contacts, changed and unchanged, and new ones ----------------------
    before = updated_at()
    start = last_activity_id()
    outcomes = import_checked(
        Actor.upload(user=editor, upload_job_id=2),
        [
            row(
                "9800000001",
                {"name": "Asha", "email": "asha@mail.in", "whatsapp_opted": True},
                {"city": "Pune", "score": 5, "interests": ["books", "toys"]},
                ("vip",),
            ),
            row(
                "9800000002",
                {"name": "Ravi K", "email": "", "whatsapp_opted": False},
                {"score": 5.0, "city": "Delhi"},
            ),
            row("9800000003", {}, {"city": "Goa"}, ("GOLD",)),
            row(
                "9800000004",
                {"name": "Zoya", "email": "", "whatsapp_opted": False},
                {"vip": True, "interests": ["shoes"]},
                ("VIP", "Gold"),
            ),
            row("9800000005"),
            row("9800000007", {"name": "Kabir"}, {"interests": ["toys", "books"], "vip": 1}),
            row(
                "9800000010",
                {"name": "Gita", "whatsapp_opted": True},
                {},
                ("VIP", "New  Tag", "new tag"),
            ),
        ],
    )
    assert outcomes == [UNCHANGED, UPDATED, UPDATED, CREATED, CREATED, UPDATED, UPDATED]
    assert contacts() == {
        e164("9800000001"): (
            None,
            "91",
            "9800000001",
            "Asha",
            "asha@mail.in",
            True,
            {"city": "Pune", "score": 5, "interests": ["books", "toys"]},
            1,
        ),
        e164("9800000002"): (
            None,
            "91",
            "9800000002",
            "Ravi K",
            "",
            False,
            {"score": 5.0, "city": "Delhi"},
            2,
        ),
        e164("9800000003"): (None, "91", "9800000003", "", "", False, {"city": "Goa"}, 2),
        e164("9800000004"): (
            None,
            "91",
            "9800000004",
            "Zoya",
            "",
            False,
            {"vip": True, "interests": ["shoes"]},
            1,
        ),
        e164("9800000005"): (None, "91", "9800000005", "", "", False, {}, 1),
        e164("9800000007"): (
            None,
            "91",
            "9800000007",
            "Kabir",
            "",
            False,
            {"interests": ["toys", "books"], "vip": 1},
            2,
        ),
        e164("9800000010"): ("ext-10", "91", "9800000010", "Gita", "", True, {}, 2),
    }
    assert type(Contact.objects.get(phone=e164("9800000002")).traits["score"]) is float
    assert links() == [
        (e164("9800000001"), "VIP"),
        (e164("9800000003"), "Gold"),
        (e164("9800000004"), "Gold"),
        (e164("9800000004"), "VIP"),
        (e164("9800000010"), "New Tag"),
        (e164("9800000010"), "VIP"),
    ]
    job2 = (Source.UPLOAD, "editor", None, 2)
    assert activity_after(start) == [
        (
            e164("9800000002"),
            UPDATED,
            *job2,
            {
                "fields": {
                    "name": ["Ravi", "Ravi K"],
                    "score": [5, 5.0],
                    "city": [None, "Delhi"],
                }
            },
        ),
        (e164("9800000003"), UPDATED, *job2, {"fields": {"city": [None, "Goa"]}}),
        (
            e164("9800000007"),
            UPDATED,
            *job2,
            {"fields": {"interests": [["books", "toys"], ["toys", "books"]], "vip": [True, 1]}},
        ),
        (
            e164("9800000010"),
            UPDATED,
            *job2,
            {"fields": {"whatsapp_opted": [False, True]}, "tags_added": ["New Tag"]},
        ),
        (
            e164("9800000004"),
            CREATED,
            *job2,
            {
                "fields": {
                    "phone": [None, e164("9800000004")],
                    "name": [None, "Zoya"],
                    "whatsapp_opted": [None, False],
                    "vip": [None, True],
                    "interests": [None, ["shoes"]],
                },
                "tags_added": ["VIP", "Gold"],
            },
        ),
        (
            e164("9800000005"),
            CREATED,
            *job2,
            {"fields": {"phone": [None, e164("9800000005")]}},
        ),
    ]
    after = updated_at()
    assert after[e164("9800000001")] == before[e164("9800000001")]
    for national in ("9800000002", "9800000003", "9800000007", "9800000010"):
        assert after[e164(national)] > before[e164(national)]
    assert Tag.objects.filter(name_key="new tag").values_list("name", flat=True).get() == "New Tag"
    assert gita.pk == Contact.objects.get(user_id="ext-10").pk

    # --- 3: tags for every row, by another actor ----------------------------------------
    imported = services.tags_get_or_create(names=["Imported"])
    rows = [
        row(
            "9800000001",
            {"name": "Asha", "email": "asha@mail.in", "whatsapp_opted": True},
            {"city": "Pune"},
            ("VIP",),
        ),
        row("9800000005", {}, {}, ("imported",)),
        row("9800000006", {"email": "six@mail.in"}, {}, ("Imported", "VIP")),
    ]
    start = last_activity_id()
    outcomes = import_checked(Actor.system(), rows, imported)
    assert outcomes == [UPDATED, UPDATED, CREATED]
    assert {p: v[-1] for p, v in contacts().items()} == {
        e164("9800000001"): 2,
        e164("9800000002"): 2,
        e164("9800000003"): 2,
        e164("9800000004"): 1,
        e164("9800000005"): 2,
        e164("9800000006"): 1,
        e164("9800000007"): 2,
        e164("9800000010"): 2,
    }
    assert contacts()[e164("9800000006")][3:7] == ("", "six@mail.in", False, {})
    system = (Source.SYSTEM, None, None, None)
    assert activity_after(start) == [
        (e164("9800000001"), UPDATED, *system, {"fields": {}, "tags_added": ["Imported"]}),
        (e164("9800000005"), UPDATED, *system, {"fields": {}, "tags_added": ["Imported"]}),
        (
            e164("9800000006"),
            CREATED,
            *system,
            {
                "fields": {"phone": [None, e164("9800000006")], "email": [None, "six@mail.in"]},
                "tags_added": ["Imported", "VIP"],
            },
        ),
    ]
    assert [tag for phone, tag in links() if tag == "Imported"] == ["Imported"] * 3

    # --- 4: the same batch again changes nothing ----------------------------------------
    before = updated_at()
    start = last_activity_id()
    count = ContactTag.objects.count()
    outcomes = import_checked(Actor.system(), rows, imported)
    assert outcomes == [UNCHANGED, UNCHANGED, UNCHANGED]
    assert activity_after(start) == []
    assert updated_at() == before
    assert ContactTag.objects.count() == count


@pytest.mark.django_db
def test_an_empty_batch_does_nothing_and_repeated_phones_or_bad_tags_are_refused():
    assert services.contacts_import_batch(actor=Actor.system(), rows=[]) == []
    with pytest.raises(ValueError, match="same phone twice"):
        services.contacts_import_batch(
            actor=Actor.system(), rows=[row("9800000001"), row("9800000001")]
        )
    with pytest.raises(ContactInputError):
        services.contacts_import_batch(
            actor=Actor.system(), rows=[row("9800000001", tags=("x" * 101,))]
        )
    with pytest.raises(ValueError, match="cannot set created_at, user_id"):
        services.contacts_import_batch(
            actor=Actor.system(),
            rows=[row("9800000001", {"user_id": "x"}), row("9800000002", {"created_at": "y"})],
        )
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_existing_contacts_are_read_in_phone_order_and_locked_where_the_database_can():
    for national in ("9800000003", "9800000001", "9800000002"):
        make_contact(phone_number=national)
    rows = [row(n, {"name": n}) for n in ("9800000002", "9800000003", "9800000001")]
    with CaptureQueriesContext(connection) as queries:
        services.contacts_import_batch(actor=Actor.system(), rows=rows)
    table = connection.ops.quote_name(Contact._meta.db_table)
    phone = connection.ops.quote_name("phone")
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT")
        and f"FROM {table}" in q["sql"]
        and (" IN (" in q["sql"] or " JOIN unnest(" in q["sql"])
    ]
    assert reads, queries.captured_queries
    locking = reads[0]
    selected = [
        column.split(" AS ")[0]
        for column in locking[len("SELECT ") : locking.index(f" FROM {table}")].split(", ")
    ]
    order = locking.split(" ORDER BY ", 1)[1].split(" ", 1)[0]
    assert order in (f"{table}.{phone}", str(selected.index(f"{table}.{phone}") + 1))
    locked = locking.endswith((" FOR UPDATE", f" FOR UPDATE OF {table}"))
    assert locked == connection.features.has_select_for_update


@pytest.mark.django_db
def test_a_failed_insert_is_retried_and_then_raised(monkeypatch):
    real = imports.insert_returning_ids
    failures = {"left": 1}

    def flaky(model: type, *args: Any, **kwargs: Any) -> dict[Any, int]:
        if model is Contact and failures["left"]:
            failures["left"] -= 1
            raise IntegrityError("concurrent insert")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(imports, "insert_returning_ids", flaky)
    rows = [row("9800000001", {"name": "Asha"}, {}, ("VIP",))]
    assert services.contacts_import_batch(actor=Actor.system(), rows=rows) == [CREATED]
    assert Contact.objects.get().name == "Asha"
    assert links() == [(e164("9800000001"), "VIP")]
    assert Activity.objects.count() == 1

    failures["left"] = 3
    with pytest.raises(IntegrityError):
        services.contacts_import_batch(actor=Actor.system(), rows=[row("9800000002")])
    assert Contact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a second connection committing meanwhile"
)
def test_a_contact_inserted_concurrently_is_found_on_the_retry(monkeypatch):
    real = imports.insert_returning_ids
    inserted = threading.Event()

    def insert_elsewhere() -> None:
        try:
            make_contact(phone_number="9800000002", name="Elsewhere", tags=["Other"])
        finally:
            connections.close_all()
            inserted.set()

    def racing(model: type, *args: Any, **kwargs: Any) -> dict[Any, int]:
        if model is Contact and not inserted.is_set():
            thread = threading.Thread(target=insert_elsewhere)
            thread.start()
            thread.join(timeout=30)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(imports, "insert_returning_ids", racing)
    rows = [row("9800000001", {"name": "Asha"}), row("9800000002", {"name": "Ravi"}, {}, ("T",))]
    outcomes = services.contacts_import_batch(actor=Actor.system(), rows=rows)
    assert outcomes == [CREATED, UPDATED]
    assert contacts()[e164("9800000002")][3:] == ("Ravi", "", False, {}, 2)
    assert links() == [(e164("9800000002"), "Other"), (e164("9800000002"), "T")]
    assert [(p, k, c) for p, k, *_, c in activity_after(0)] == [
        (
            e164("9800000002"),
            CREATED,
            {
                "fields": {"phone": [None, e164("9800000002")], "name": [None, "Elsewhere"]},
                "tags_added": ["Other"],
            },
        ),
        (
            e164("9800000002"),
            UPDATED,
            {
                "fields": {"name": ["Elsewhere", "Ravi"]},
                "tags_added": ["T"],
            },
        ),
        (
            e164("9800000001"),
            CREATED,
            {
                "fields": {"phone": [None, e164("9800000001")], "name": [None, "Asha"]},
            },
        ),
    ]

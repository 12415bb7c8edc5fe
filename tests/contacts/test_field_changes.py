"""Field changes as resumable jobs: kind change with leftovers, delete, hide, index."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from bulkupload.mapping import SKIP, auto_map
from contacts.fields import field_registry
from contacts.models import Activity, Attribute, Contact, FieldChange, FieldChangeLeftover
from contacts.selectors.field_values import field_change_leftovers, field_kind_change_preview
from contacts.services import (
    Actor,
    ContactInputError,
    attribute_create,
    attribute_hide,
    contact_update,
)
from contacts.services.field_changes import (
    field_change_run,
    field_delete_start,
    field_index_start,
    field_kind_change_start,
)
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

MANAGER = Actor.system()


@pytest.fixture
def score() -> Attribute:
    """A text field whose values are mostly numbers."""
    return attribute_create(label="Score", key="score", type="text")


def scored(*values: str) -> list[Contact]:
    return [make_contact(name=f"C{n}", score=value) for n, value in enumerate(values)]


def traits(contacts: list[Contact]) -> list[object]:
    return [Contact.objects.get(pk=c.pk).traits.get("score") for c in contacts]


def test_preview_counts_the_values_that_would_not_convert_and_names_them(score):
    contacts = scored("10", "12.5", "high", "7", "n/a")
    make_contact(name="No score")

    preview = field_kind_change_preview(attribute=score, to_type="number")

    assert (preview.with_value, preview.unconverted) == (5, 2)
    assert [(u.contact_id, u.value) for u in preview.examples] == [
        (contacts[2].pk, "high"),
        (contacts[4].pk, "n/a"),
    ]
    assert all("number" in u.problem for u in preview.examples)
    assert traits(contacts) == ["10", "12.5", "high", "7", "n/a"]  # a preview writes nothing


def test_preview_refuses_the_same_kind_or_an_unknown_one_naming_the_field(score):
    with pytest.raises(ContactInputError, match="Score: is already a text field"):
        field_kind_change_preview(attribute=score, to_type="text")
    with pytest.raises(ContactInputError, match='Score: "colour" is not a kind of field'):
        field_kind_change_preview(attribute=score, to_type="colour")


def test_kind_change_converts_keeps_leftovers_and_records_each_changed_contact(score):
    contacts = scored("10", "high", "7")
    change = field_kind_change_start(actor=MANAGER, attribute_id=score.pk, to_type="number")
    assert field_registry()["score"].changing  # writes wait until it is done
    with pytest.raises(ContactInputError, match="Score: cannot be written while"):
        contact_update(actor=MANAGER, contact_id=contacts[0].pk, values={"score": "11"})

    change = field_change_run(change_id=change.pk)

    assert (change.status, change.done, change.changed, change.unconverted) == (
        "completed",
        3,
        3,
        1,
    )
    assert traits(contacts) == [10, None, 7]
    score.refresh_from_db()
    assert (score.type, score.changing) == ("number", False)
    leftover = FieldChangeLeftover.objects.get()
    assert (leftover.contact_id, leftover.value) == (contacts[1].pk, "high")
    [row] = field_change_leftovers(change)
    assert (row.contact_id, row.phone, row.value) == (contacts[1].pk, contacts[1].phone, "high")
    entries = Activity.objects.filter(changes__field_change=change.pk)
    assert sorted(e.changes["fields"]["score"][1] or 0 for e in entries) == [0, 7, 10]
    assert Contact.objects.get(pk=contacts[0].pk).version == contacts[0].version + 1


def test_a_value_already_in_the_new_form_is_not_rewritten(score):
    """Text to list: "a;b" becomes a list, "solo" a one-item list; both change."""
    attribute_create(label="Plain", key="plain", type="number")
    one = make_contact(plain=5)
    change = field_kind_change_start(
        actor=MANAGER, attribute_id=Attribute.objects.get(key="plain").pk, to_type="text"
    )
    change = field_change_run(change_id=change.pk)
    assert Contact.objects.get(pk=one.pk).traits["plain"] == "5"
    assert change.changed == 1


def test_kind_change_refuses_an_indexed_field_and_a_second_change(score):
    Attribute.objects.filter(pk=score.pk).update(indexed=True)
    with pytest.raises(ContactInputError, match="Score: is indexed"):
        field_kind_change_start(actor=MANAGER, attribute_id=score.pk, to_type="number")
    Attribute.objects.filter(pk=score.pk).update(indexed=False)
    field_kind_change_start(actor=MANAGER, attribute_id=score.pk, to_type="number")
    with pytest.raises(ContactInputError, match="Score: a change is already running"):
        field_delete_start(actor=MANAGER, attribute_id=score.pk)


def test_delete_removes_values_then_the_field_and_keeps_old_values_in_timelines(score):
    contacts = scored("1", "2")
    other = make_contact(name="Other")
    change = field_delete_start(actor=MANAGER, attribute_id=score.pk)
    assert field_registry()["score"].hidden  # out of the pickers at once

    change = field_change_run(change_id=change.pk, chunk_size=1)

    assert (change.status, change.done, change.changed) == ("completed", 2, 2)
    assert change.attribute_id is None and change.field_label == "Score"
    assert not Attribute.objects.filter(key="score").exists()
    assert traits(contacts) == [None, None]
    assert Contact.objects.get(pk=other.pk).version == other.version
    olds = Activity.objects.filter(changes__field_change=change.pk)
    assert sorted(e.changes["fields"]["score"][0] for e in olds) == ["1", "2"]


def test_a_stopped_run_hands_back_and_the_next_carries_on_after_the_last_chunk(score):
    contacts = scored("1", "x", "3", "4", "y")
    change = field_kind_change_start(actor=MANAGER, attribute_id=score.pk, to_type="number")
    answers = iter([False, True])

    change = field_change_run(change_id=change.pk, chunk_size=2, should_stop=lambda: next(answers))

    assert (change.status, change.done, change.after_id) == ("queued", 4, contacts[3].pk)
    assert traits(contacts) == [1, None, 3, 4, "y"]
    change = field_change_run(change_id=change.pk, chunk_size=2)
    assert (change.status, change.done, change.unconverted, change.attempts) == (
        "completed",
        5,
        2,
        2,
    )
    assert traits(contacts) == [1, None, 3, 4, None]
    assert Activity.objects.filter(changes__field_change=change.pk).count() == 5  # once each


def test_values_written_behind_the_job_by_a_writer_that_read_the_field_before_are_caught_up(
    score,
):
    """A long import reads the fields once: it may write the old kind after the job passed."""
    contacts = scored("1", "2", "3")
    read_before = field_registry()
    change = field_kind_change_start(actor=MANAGER, attribute_id=score.pk, to_type="number")
    change = field_change_run(change_id=change.pk, chunk_size=2, should_stop=lambda: True)
    assert (change.status, change.after_id) == ("queued", contacts[1].pk)
    for contact, value in zip(contacts[:2], ("41", "oops"), strict=True):
        contact_update(
            actor=MANAGER, contact_id=contact.pk, values={"score": value}, registry=read_before
        )

    change = field_change_run(change_id=change.pk, chunk_size=2)

    assert change.status == "completed"
    assert traits(contacts) == [41, None, 3]
    assert FieldChangeLeftover.objects.get().value == "oops"
    assert (change.done, change.changed, change.unconverted) == (3, 5, 1)


def test_a_killed_run_is_resumed_by_resume_jobs_without_redoing_a_chunk(
    monkeypatch, score, django_capture_on_commit_callbacks, settings
):
    contacts = scored("1", "2", "3", "4")
    change = field_kind_change_start(actor=MANAGER, attribute_id=score.pk, to_type="number")
    from contacts.services import field_changes

    real, calls = field_changes._rewrite, {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # not an Exception: the job stays running
        return real(*args, **kwargs)

    monkeypatch.setattr(field_changes, "_rewrite", dying)
    with pytest.raises(SystemExit):
        field_change_run(change_id=change.pk, chunk_size=2)
    monkeypatch.setattr(field_changes, "_rewrite", real)
    change.refresh_from_db()
    assert (change.status, change.done) == ("running", 2)

    settings.BULKUPLOAD_STALE_SECONDS = 60
    FieldChange.objects.filter(pk=change.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("resume_jobs", stdout=StringIO())
    change.refresh_from_db()
    assert (change.status, change.done, change.attempts) == ("completed", 4, 2)
    assert traits(contacts) == [1, 2, 3, 4]
    assert Activity.objects.filter(changes__field_change=change.pk).count() == 4


def test_hide_keeps_values_and_leaves_the_pickers(score):
    contact = make_contact(score="9")
    attribute_hide(attribute_id=score.pk, hidden=True)
    registry = field_registry()
    assert "score" not in [f.key for f in registry.pickable]
    assert registry["score"].hidden and "score" in registry
    assert Contact.objects.get(pk=contact.pk).traits["score"] == "9"
    # CSV mapping: a column headed like it is skipped, not mapped nor made a new field.
    assert auto_map(["Phone", "Score"], [["9800000001", "9"]], registry)[1] == SKIP
    attribute_hide(attribute_id=score.pk, hidden=False)
    assert "score" in [f.key for f in field_registry().pickable]


def test_index_job_builds_and_drops_the_index(score, transactional_db):
    from contacts.services.field_index import field_index_name, index_state

    change = field_index_start(actor=MANAGER, attribute_id=score.pk, indexed=True)
    change = field_change_run(change_id=change.pk)
    assert change.status == "completed"
    assert index_state(field_index_name("score")) == "valid"
    assert Attribute.objects.get(pk=score.pk).indexed

    change = field_change_run(
        change_id=field_index_start(actor=MANAGER, attribute_id=score.pk, indexed=False).pk
    )
    assert change.status == "completed"
    assert index_state(field_index_name("score")) == "missing"
    assert not Attribute.objects.get(pk=score.pk).indexed


def test_deleting_an_indexed_field_drops_every_index_it_had(transactional_db):
    from contacts.services.field_index import field_index_names

    points = attribute_create(label="Points", key="points", type="number")
    make_contact(name="Asha", points="9")
    field_change_run(
        change_id=field_index_start(actor=MANAGER, attribute_id=points.pk, indexed=True).pk
    )
    built = trait_indexes("points")
    assert built and set(built) <= set(field_index_names("points"))
    assert len(built) == (2 if connection.vendor == "postgresql" else 1)  # and its reverse
    change = field_delete_start(actor=MANAGER, attribute_id=points.pk)
    assert field_change_run(change_id=change.pk).status == "completed"
    assert trait_indexes("points") == []


PATTERN = "contact_trait_%"


def trait_indexes(key: str) -> list[str]:
    if connection.vendor == "postgresql":
        sql = "SELECT indexname FROM pg_indexes WHERE indexname LIKE %s"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"contact_trait_{key}_%"])
        return sorted(row[0] for row in cursor.fetchall())


def test_a_list_field_cannot_be_indexed_and_says_so():
    tags = attribute_create(label="Hobbies", key="hobbies", type="list")
    with pytest.raises(ContactInputError, match="Hobbies: a list field cannot be indexed"):
        field_index_start(actor=MANAGER, attribute_id=tags.pk, indexed=True)

"""An undo or a restore that meets a concurrent write never loses the newer value.

A writer holds the contact's row lock, the undo (or restore) starts and waits for it, the
writer commits a new value: the undo then sees that change and keeps it.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from bulkupload import undoing
from contacts.models import Contact, Tag
from contacts.services import Actor, VersionConflict, contact_change_restore, contact_field_update
from tests.factories import make_contact

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real concurrent connections: run with DATABASE_URL=postgres://... "
        "(the in-memory SQLite test database serialises everything anyway)",
    ),
]


def write_while_holding_the_lock(contact_id: int, value: str, locked: threading.Event) -> None:
    """Lock the contact, let the other side start and block, then change its name."""
    try:
        with transaction.atomic():
            Contact.objects.select_for_update().get(pk=contact_id)
            locked.set()
            time.sleep(0.5)  # the undo/restore is now waiting on this row
            contact_field_update(
                actor=Actor.system(), contact_id=contact_id, field_key="name", value=value
            )
    finally:
        connections.close_all()


def test_undo_waits_for_a_concurrent_edit_and_keeps_it(make_job, run_job, editor):
    make_contact(phone_number="9876500003", name="Old Mira")
    job = make_job("Name,Phone,Country Code\nMira,9876500003,91\nNew,9876500004,91\n")
    job = run_job(job, tags=[Tag.objects.create(name="Expo", name_key="expo")])
    mira = Contact.objects.get(phone="+919876500003")
    locked = threading.Event()
    writer = threading.Thread(target=write_while_holding_the_lock, args=(mira.pk, "Mira K", locked))
    writer.start()
    assert locked.wait(10)
    started = undoing.upload_undo_start(upload=job, user=editor, enqueue=False)
    done = undoing.upload_undo_run(undo_id=started.pk)
    writer.join(10)
    mira.refresh_from_db()
    assert mira.name == "Mira K"  # the newer value
    assert not mira.tags.exists()  # what nobody touched since is undone
    assert [(k.contact_id, k.field) for k in done.kept.all()] == [(mira.pk, "name")]
    assert not Contact.objects.filter(phone="+919876500004").exists()


def test_restore_waits_for_a_concurrent_edit_and_is_refused(editor):
    contact = make_contact(name="Asha")
    contact_field_update(
        actor=Actor.system(), contact_id=contact.pk, field_key="name", value="Asha K"
    )
    entry = contact.activities.first()
    locked = threading.Event()
    writer = threading.Thread(
        target=write_while_holding_the_lock, args=(contact.pk, "Asha Kumar", locked)
    )
    writer.start()
    assert locked.wait(10)
    with pytest.raises(VersionConflict, match="Asha Kumar"):
        contact_change_restore(actor=Actor.web(editor), activity_id=entry.pk, field_key="name")
    writer.join(10)
    contact.refresh_from_db()
    assert contact.name == "Asha Kumar"

from __future__ import annotations

import pytest

from bulkupload import undoing
from contacts.models import Contact
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_upload_counts_and_stamps_opt_in_changes_and_the_undo_restamps(make_job, run_job, editor):
    make_contact(phone_number="9876500001", name="Asha", whatsapp_opted=False)
    make_contact(phone_number="9876500002", name="Ravi", whatsapp_opted=True)
    text = (
        "Name,Phone,Country Code,WhatsApp Opted\nAsha,9876500001,91,TRUE\nRavi,9876500002,91,TRUE\n"
    )
    job = run_job(make_job(text))
    assert job.rows_opt_in_changed == 1
    asha = Contact.objects.get(name="Asha")
    assert asha.whatsapp_opted is True
    assert asha.opt_in_source == f"Upload #{job.pk} by {editor.get_username()}"
    started = undoing.upload_undo_start(upload=job, user=editor, enqueue=False)
    undoing.upload_undo_run(undo_id=started.pk)
    asha.refresh_from_db()
    assert asha.whatsapp_opted is False
    assert asha.opt_in_source == f"Web: {editor.get_username()}"

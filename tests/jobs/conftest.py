from __future__ import annotations

import pytest

from bulkupload.models import UploadJob
from contacts import services
from contacts.models import BulkAction, Contact
from contacts.services import Actor
from tests.factories import make_contact
from tests.jobs.stalling import stall


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def queued_bulk_action(db):
    """A bulk action on a few new contacts, queued but not run (no task runs until commit)."""

    def make(size: int = 3, kind: str = "tags_add") -> BulkAction:
        contacts = [make_contact(name=f"B{i}") for i in range(size)]
        targets = Contact.objects.filter(pk__in=[c.pk for c in contacts])
        names = ["VIP"] if kind != "delete" else []
        return services.bulk_action_start(
            actor=Actor.system(), kind=kind, contacts=targets, names=names
        )

    return make


@pytest.fixture
def stalled_upload(db) -> UploadJob:
    job = UploadJob.objects.create(original_name="stalled.csv", status="queued", total=10)
    stall(job)
    return job

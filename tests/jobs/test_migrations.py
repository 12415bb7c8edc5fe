"""The move to resumable jobs keeps the data: upload counters and bulk actions' contacts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("contacts", "0004_remove_apiratelimitwindow"),
    ("bulkupload", "0002_upload_file_removed_at"),
]
AFTER = [("contacts", "0005_bulk_action_resumable_job"), ("bulkupload", "0003_resumable_job")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_contact_ids_become_rows_in_order_and_upload_counters_keep_their_values():
    old = migrate(BEFORE)
    action = old.get_model("contacts", "BulkAction").objects.create(
        kind="tags_add", status="running", contact_ids=[30, 10, 20], total=3, done=1, attempts=1
    )
    job = old.get_model("bulkupload", "UploadJob").objects.create(
        original_name="a.csv", status="completed", rows_total=7, rows_done=7, attempts=1
    )
    new = migrate(AFTER)
    rows = new.get_model("contacts", "BulkActionContact").objects.filter(action_id=action.pk)
    assert list(rows.order_by("position").values_list("position", "contact_id")) == [
        (0, 30),
        (1, 10),
        (2, 20),
    ]
    migrated = new.get_model("contacts", "BulkAction").objects.get(pk=action.pk)
    assert (migrated.total, migrated.done, migrated.lease) == (3, 1, "")
    upload = new.get_model("bulkupload", "UploadJob").objects.get(pk=job.pk)
    assert (upload.total, upload.done, upload.attempts) == (7, 7, 1)

    back = migrate(BEFORE)  # and back again, as a rollback would
    assert back.get_model("contacts", "BulkAction").objects.get(pk=action.pk).contact_ids == [
        30,
        10,
        20,
    ]
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # the latest schema

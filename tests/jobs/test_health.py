"""``/healthz`` reports every kind of job: running and stalled counts, and who is stalled."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contacts.models import BulkAction
from tests.jobs.stalling import stall

pytestmark = pytest.mark.django_db


def test_health_counts_running_and_stalled_jobs_of_both_kinds(
    client, stalled_upload, queued_bulk_action, settings
):
    settings.BULKUPLOAD_STALE_SECONDS = 120
    running = queued_bulk_action()
    BulkAction.objects.filter(pk=running.pk).update(status="running", heartbeat_at=timezone.now())
    stalled = queued_bulk_action()
    stall(stalled)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["jobs"] == {
        "bulk_actions": {"running": 2, "stalled": 1},
        "duplicate_scans": {"running": 0, "stalled": 0},
        "field_changes": {"running": 0, "stalled": 0},
        "upload_undos": {"running": 0, "stalled": 0},
        "uploads": {"running": 1, "stalled": 1},
    }
    assert body["checks"]["jobs"] == (
        f"stalled: 1 running bulk action(s) without a worker (ids [{stalled.pk}]); "
        f"1 running upload(s) without a worker (ids [{stalled_upload.pk}]); "
        "`manage.py resume_jobs` queues them again"
    )


def test_a_stalled_bulk_action_alone_makes_the_site_unhealthy(client, queued_bulk_action, settings):
    settings.BULKUPLOAD_STALE_SECONDS = 120
    action = queued_bulk_action()
    assert client.get("/healthz").status_code == 200  # queued is not stalled
    stall(action, minutes=3)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["jobs"]["bulk_actions"] == {"running": 1, "stalled": 1}


def test_jobs_stale_seconds_wins_over_the_older_setting(client, queued_bulk_action, settings):
    settings.BULKUPLOAD_STALE_SECONDS = 120
    settings.JOBS_STALE_SECONDS = 600
    stall(queued_bulk_action(), minutes=3)
    assert client.get("/healthz").status_code == 200

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contacthub.observability import JsonFormatter, RequestIdFilter, request_id_var

pytestmark = pytest.mark.django_db


def test_health_is_public_and_reports_database_and_workers(client: Client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "workers": "ok", "jobs": "ok"},
        "jobs": {
            "bulk_actions": {"running": 0, "stalled": 0},
            "duplicate_scans": {"running": 0, "stalled": 0},
            "field_changes": {"running": 0, "stalled": 0},
            "upload_undos": {"running": 0, "stalled": 0},
            "uploads": {"running": 0, "stalled": 0},
        },
    }


def test_health_reports_stalled_workers_when_queued_work_waits_too_long(client: Client):
    from django_tasks_db.models import DBTaskResult, get_date_max

    DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="x.y",
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
    )
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"].startswith("stalled")
    web = client.get("/healthz", {"scope": "web"})  # a load balancer's view: this process serves
    assert web.status_code == 200
    assert web.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_health_reports_a_running_upload_whose_worker_went_silent(client: Client, settings):
    from bulkupload.models import UploadJob

    settings.BULKUPLOAD_STALE_SECONDS = 120
    job = UploadJob.objects.create(
        original_name="a.csv", status=UploadJob.Status.RUNNING, heartbeat_at=timezone.now()
    )
    assert client.get("/healthz").status_code == 200  # a worker reported a moment ago
    UploadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=3))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["jobs"].startswith("stalled: 1 running upload(s)")
    assert f"ids [{job.pk}]" in response.json()["checks"]["jobs"]
    assert response.json()["jobs"]["uploads"] == {"running": 1, "stalled": 1}


def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one(client: Client):
    generated = client.get("/accounts/login/")["X-Request-ID"]
    assert len(generated) == 32
    kept = client.get("/accounts/login/", headers={"X-Request-ID": "proxy-abc-12345"})
    assert kept["X-Request-ID"] == "proxy-abc-12345"
    replaced = client.get("/accounts/login/", headers={"X-Request-ID": "<script>"})
    assert replaced["X-Request-ID"] != "<script>"


def test_log_lines_carry_the_request_id_as_json():
    record = logging.LogRecord("contacts", logging.INFO, __file__, 1, "saved %s", ("x",), None)
    token = request_id_var.set("req-123456")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = JsonFormatter().format(record)
    assert '"request_id": "req-123456"' in line and '"message": "saved x"' in line

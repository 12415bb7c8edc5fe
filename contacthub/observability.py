"""Request ids in every log line, optional JSON logs, and the health endpoint."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# A queued task nobody has started for this long means no worker is taking work.
WORKER_STALL_AFTER = timedelta(minutes=5)


class RequestIdMiddleware:
    """Give each request an id (or keep a sane ``X-Request-ID`` from the proxy).

    The id is put on the response and on every log line written while handling the request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


@never_cache
@require_GET
@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness of the database and of the background workers, for load balancers.

    503 when the database does not answer, when queued work has waited longer than
    ``WORKER_STALL_AFTER`` without any worker starting it, or when a running upload's worker
    has been silent for ``BULKUPLOAD_STALE_SECONDS`` (it died with the job in hand).
    ``?scope=web`` checks the database only: a load balancer should not take web processes
    out of rotation because a background worker is down.
    """
    checks: dict[str, str] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means unhealthy; the reason is reported
        checks["database"] = f"error: {type(exc).__name__}"
        return JsonResponse({"status": "unhealthy", "checks": checks}, status=503)
    if request.GET.get("scope") == "web":  # for a load balancer: can this process serve?
        return JsonResponse({"status": "ok", "checks": checks})
    from django_tasks_db.models import DBTaskResult, get_date_max

    cutoff = timezone.now() - WORKER_STALL_AFTER
    stalled = (
        DBTaskResult.objects.ready()
        .filter(Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff))
        .exists()
    )
    checks["workers"] = "stalled: queued work is waiting" if stalled else "ok"
    from bulkupload.services import upload_jobs_stalled

    silent = upload_jobs_stalled()
    checks["uploads"] = (
        f"stalled: {len(silent)} running upload(s) without a worker (ids {silent}); "
        "opening one, or `manage.py resume_uploads`, queues it again"
        if silent
        else "ok"
    )
    healthy = not stalled and not silent
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks},
        status=200 if healthy else 503,
    )

"""The health endpoint: the database, the background workers and their jobs."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult, get_date_max

from jobs.services import jobs_health

# A queued task nobody has started for this long means no worker is taking work.
WORKER_STALL_AFTER = timedelta(minutes=5)


def _jobs_check() -> tuple[str, dict[str, dict[str, int]], bool]:
    """One check for every kind of background job: running and stalled counts by kind."""
    counts: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    for health in jobs_health():
        kind = health.kind
        counts[kind.name] = {"running": health.running, "stalled": len(health.stalled)}
        if health.stalled:
            problems.append(
                f"{len(health.stalled)} running {kind.noun}(s) without a worker "
                f"(ids {health.stalled})"
            )
    if not problems:
        return "ok", counts, True
    message = "stalled: " + "; ".join(problems) + "; `manage.py resume_jobs` queues them again"
    return message, counts, False


@never_cache
@require_GET
@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness of the database and of the background workers, for load balancers.

    503 when the database does not answer, when queued work has waited longer than
    ``WORKER_STALL_AFTER`` without any worker starting it, or when a running job of any kind
    (an upload, a bulk action) has had a silent worker for the stale period (it died with
    the job in hand). ``jobs`` gives the running and stalled count of each kind.
    ``?scope=web`` checks the database only: a load balancer should not take web processes
    out of rotation because a background worker is down.
    """
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means unhealthy; the reason is reported
        checks["database"] = f"error: {type(exc).__name__}"
        return JsonResponse({"status": "unhealthy", "checks": checks}, status=503)
    if request.GET.get("scope") == "web":  # for a load balancer: can this process serve?
        return JsonResponse({"status": "ok", "checks": checks})
    cutoff = timezone.now() - WORKER_STALL_AFTER
    stalled = (
        DBTaskResult.objects.ready()
        .filter(Q(run_after=get_date_max(), enqueued_at__lt=cutoff) | Q(run_after__lt=cutoff))
        .exists()
    )
    checks["workers"] = "stalled: queued work is waiting" if stalled else "ok"
    checks["jobs"], counts, jobs_ok = _jobs_check()
    healthy = not stalled and jobs_ok
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks, "jobs": counts},
        status=200 if healthy else 503,
    )

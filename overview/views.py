"""The Overview page: headline numbers and charts, each leading into the contact list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from contacts.fields import field_registry
from overview import charts, selectors, snapshots, tasks

UPLOAD = "contacts.upload_contacts"


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    can_upload = request.user.has_perm(UPLOAD)
    return render(request, "overview/overview.html", overview_context(can_upload=can_upload))


def overview_context(*, can_upload: bool) -> dict[str, Any]:
    """The stored snapshot (a recount asked for when it is out of date) and the live uploads.

    Only a new installation, with no snapshot stored yet, counts one during the request.
    """
    registry = field_registry()
    stored = snapshots.snapshot_read()
    refreshing = False
    if stored is None:
        stored = snapshots.snapshot_refresh(registry)
    elif stored.is_stale(registry, timezone.now()):
        # Whether this request or another asked for it a moment ago, a recount is coming.
        tasks.snapshot_refresh_request()
        refreshing = True
    snapshot = stored.snapshot
    uploads = selectors.last_uploads()
    # The error report is for people who may upload; others get no link to a page they
    # cannot open.
    upload_rows = charts.upload_rows(
        uploads,
        lambda pk: reverse("bulkupload:errors", args=[pk]) if can_upload else None,
    )
    return {
        "snapshot": snapshot,
        "totals": snapshot.totals,
        "sources": charts.SOURCE_SERIES,
        "per_day_chart": stored.chart("per_day"),
        "tags_chart": stored.chart("tags"),
        "fields_chart": stored.chart("fields"),
        "uploads": uploads,
        "uploads_chart": uploads and charts.outcomes_chart(upload_rows, prefix="uploads"),
        "can_upload": can_upload,
        "refreshing": refreshing,
        "counted_today": timezone.localdate(snapshot.counted_at) == timezone.localdate(),
        "ttl_minutes": snapshots.SNAPSHOT_TTL // 60,
    }

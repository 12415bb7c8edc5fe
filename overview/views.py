"""The Overview page: headline numbers and charts, each leading into the contact list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from contacts.fields import field_registry
from overview import charts, selectors

UPLOAD = "contacts.upload_contacts"


@require_GET
@permission_required("contacts.view_contact", raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    can_upload = request.user.has_perm(UPLOAD)
    return render(request, "overview/overview.html", overview_context(can_upload=can_upload))


def overview_context(*, can_upload: bool) -> dict[str, Any]:
    registry = field_registry()
    snapshot = selectors.overview_snapshot(registry)
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
        "per_day_chart": charts.per_day_chart(snapshot.days),
        "tags_chart": snapshot.tags and charts.ranked_chart(snapshot.tags, prefix="tags"),
        "fields_chart": snapshot.fields and charts.ranked_chart(snapshot.fields, prefix="fields"),
        "uploads": uploads,
        "uploads_chart": uploads and charts.outcomes_chart(upload_rows, prefix="uploads"),
        "can_upload": can_upload,
        "ttl_minutes": selectors.SNAPSHOT_TTL // 60,
    }

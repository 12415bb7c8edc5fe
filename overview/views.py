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
    whole = selectors.whole_table_counts(registry)
    days = selectors.contacts_per_day(registry)
    uploads = selectors.last_uploads()
    # The error report is for people who may upload; others get no link to a page they
    # cannot open.
    upload_rows = charts.upload_rows(
        uploads,
        lambda pk: reverse("bulkupload:errors", args=[pk]) if can_upload else None,
    )
    return {
        "totals": selectors.totals(registry, whole),
        "whole": whole,
        "days": days,
        "days_total": selectors.day_totals(days),
        "sources": charts.SOURCE_SERIES,
        "per_day_chart": charts.per_day_chart(days),
        "tags_chart": charts.ranked_chart(whole.tags, prefix="tags") if whole.tags else "",
        "fields_chart": (
            charts.ranked_chart(whole.fields, prefix="fields") if whole.fields else ""
        ),
        "uploads": uploads,
        "upload_rows": upload_rows,
        "uploads_chart": charts.outcomes_chart(upload_rows, prefix="uploads") if uploads else "",
        "can_upload": can_upload,
        "ttl_minutes": selectors.WHOLE_TABLE_TTL // 60,
    }

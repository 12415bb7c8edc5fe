"""Charts other apps' pages show: ``{% load overview_charts %}{% upload_result job %}``.

A template tag rather than a context variable from the upload's view: the Overview reads
uploads (``overview`` depends on ``bulkupload``), so ``bulkupload``'s Python does not import
``overview``; only its template asks for the chart.
"""

from __future__ import annotations

from typing import Any

from django import template

from bulkupload.models import UploadJob
from overview.upload_result import upload_result as upload_result_of

register = template.Library()


@register.inclusion_tag("overview/_upload_result.html")
def upload_result(job: UploadJob) -> dict[str, Any]:
    """A finished upload's outcome chart and its rows not imported, grouped by reason."""
    return {"result": upload_result_of(job) if job.is_finished else None}

"""One upload's outcome as charts, for the upload's result page (bulkupload)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.safestring import SafeString

from bulkupload.models import UploadJob, UploadRowProblem
from overview import charts, selectors


@dataclass(frozen=True, slots=True)
class UploadResult:
    outcome: selectors.UploadOutcome
    outcome_chart: SafeString
    problems: list[selectors.Bar]
    problems_chart: SafeString
    error_report_url: str


def upload_result(job: UploadJob) -> UploadResult:
    """The outcome chart and the failed and skipped rows grouped by reason (one query)."""
    report = reverse("bulkupload:errors", args=[job.pk])
    outcome = selectors.UploadOutcome(job, selectors.list_url(upload_job_id=job.pk))
    rows = charts.upload_rows([outcome], lambda pk: report)
    kinds = dict(UploadRowProblem.Kind.choices)
    problems = [
        selectors.Bar(f"{kinds.get(p.kind, p.kind)}: {p.reason}", p.count, report)
        for p in selectors.upload_problem_kinds(job.pk)
    ]
    return UploadResult(
        outcome=outcome,
        outcome_chart=charts.outcomes_chart(rows, prefix="upload-outcome"),
        problems=problems,
        problems_chart=(
            charts.ranked_chart(problems, prefix="upload-problems", unit="row", width=960)
            if problems
            else SafeString("")
        ),
        error_report_url=report,
    )

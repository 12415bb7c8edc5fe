"""The upload result page's charts: outcome and reasons, each leading to its rows."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter

import pytest

from bulkupload.models import UploadJob, UploadRowProblem
from tests.overview.conftest import Book, fill_book, list_count, page_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(db) -> UploadJob:
    return fill_book(Book()).jobs[0]


def test_result_page_charts_the_outcome_and_groups_the_reasons(job, editor_client):
    response = editor_client.get(f"/uploads/{job.pk}/")
    page = response.content.decode()
    assert 'id="upload-outcome-chart"' in page and 'id="upload-problems-chart"' in page
    result = response.context["result"]
    assert result.outcome.touched == job.rows_created + job.rows_updated == 3
    reasons = [(bar.label, bar.count) for bar in result.problems]
    assert reasons == [("Failed: Phone", 2), ("Skipped: empty row", 1)]
    by_kind = Counter(UploadRowProblem.objects.filter(job=job).values_list("kind", flat=True))
    assert sum(count for _, count in reasons) == sum(by_kind.values()) == 3


def test_outcome_links_open_the_upload_list_with_the_same_count(job, editor_client):
    page = editor_client.get(f"/uploads/{job.pk}/").content.decode()
    chart = page.split('id="upload-outcome-chart"')[1].split("</svg>")[0]
    assert f'href="/?upload={job.pk}"' in chart
    response = editor_client.get(f"/?upload={job.pk}")
    assert list_count(response.content.decode()) == job.rows_created + job.rows_updated


def test_reason_links_open_the_error_report_holding_those_rows(job, editor_client):
    page = editor_client.get(f"/uploads/{job.pk}/").content.decode()
    counted = dict(page_links(page.split('data-testid="problems-table"')[1]).counted)
    assert set(counted) == {f"/uploads/{job.pk}/errors.csv"}
    report = editor_client.get(html.unescape(next(iter(counted))))
    text = b"".join(report.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    heads = Counter(f"{outcome.title()}: {reason.split(':')[0]}" for _, outcome, reason, *_ in rows)
    assert heads == {"Failed: Phone": 2, "Skipped: empty row": 1}


def test_a_running_upload_has_no_result_yet(job, editor_client):
    UploadJob.objects.filter(pk=job.pk).update(status=UploadJob.Status.QUEUED)
    response = editor_client.get(f"/uploads/{job.pk}/", headers={"HX-Request": "true"})
    assert "result" not in response.context
    assert b"upload-outcome-chart" not in response.content


def test_result_queries_do_not_grow_with_problems(
    job, editor_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        editor_client.get(f"/uploads/{job.pk}/")
    UploadRowProblem.objects.bulk_create(
        UploadRowProblem(job=job, row_number=100 + n, kind="failed", reason=f"Field {n % 7}: bad")
        for n in range(200)
    )
    with django_assert_max_num_queries(6):
        response = editor_client.get(f"/uploads/{job.pk}/")
    assert len(response.context["result"].problems) == 2 + 7

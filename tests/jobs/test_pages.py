"""Pages that show jobs only read: no GET resumes (or otherwise writes) a stalled job."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bulkupload.models import UploadJob
from contacts.models import BulkAction
from tests.jobs.stalling import stall

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_during_get(client, url: str, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


def row(job: UploadJob | BulkAction) -> dict:
    return type(job).objects.filter(pk=job.pk).values().get()


def test_no_page_showing_a_stalled_job_writes(
    manager_client, stalled_upload, queued_bulk_action, settings
):
    settings.BULKUPLOAD_STALE_SECONDS = 60
    action = queued_bulk_action()
    stall(action)
    before = row(stalled_upload), row(action)
    pages = [
        (reverse("bulkupload:list"), {}),
        (reverse("bulkupload:job", args=[stalled_upload.pk]), {}),
        (reverse("bulkupload:job", args=[stalled_upload.pk]), HTMX),
        (reverse("contacts:bulk-status", args=[action.pk]), {}),
        (reverse("contacts:bulk-status", args=[action.pk]), HTMX),
        (reverse("contacts:bulk-actions"), {}),
        (reverse("contacts:list"), {}),
    ]
    for url, headers in pages:
        assert writes_during_get(manager_client, url, **headers) == [], url
    assert (row(stalled_upload), row(action)) == before


def test_a_stalled_job_says_so_on_its_page(editor_client, stalled_upload, settings):
    settings.BULKUPLOAD_STALE_SECONDS = 60
    html = editor_client.get(reverse("bulkupload:job", args=[stalled_upload.pk])).content.decode()
    assert 'data-testid="job-stalled"' in html and "manage.py resume_jobs" in html
    UploadJob.objects.filter(pk=stalled_upload.pk).update(status="completed")
    html = editor_client.get(reverse("bulkupload:job", args=[stalled_upload.pk])).content.decode()
    assert 'data-testid="job-stalled"' not in html


def test_the_bulk_actions_page_lists_finished_actions_of_the_kinds_one_may_run(
    editor_client, manager_client, viewer_client, queued_bulk_action, django_assert_max_num_queries
):
    tagged = queued_bulk_action(kind="tags_add")
    deleted = queued_bulk_action(kind="delete")
    BulkAction.objects.filter(pk=tagged.pk).update(status="completed", done=3, changed=2)
    BulkAction.objects.filter(pk=deleted.pk).update(status="failed", done=1)
    url = reverse("contacts:bulk-actions")
    assert viewer_client.get(url).status_code == 403
    html = " ".join(editor_client.get(url).content.decode().split())
    assert reverse("contacts:bulk-status", args=[tagged.pk]) in html
    assert reverse("contacts:bulk-status", args=[deleted.pk]) not in html  # managers' only
    assert "Add tags: VIP" in html and "Completed" in html
    for _ in range(3):
        queued_bulk_action()
    with django_assert_max_num_queries(8):
        html = manager_client.get(url).content.decode()
    assert reverse("contacts:bulk-status", args=[deleted.pk]) in html and "Failed" in html


def test_the_list_links_running_bulk_actions_to_the_list_of_all(editor_client, queued_bulk_action):
    queued_bulk_action()
    html = editor_client.get(reverse("contacts:list")).content.decode()
    assert f'href="{reverse("contacts:bulk-actions")}"' in html

"""Faults under a real ``db_worker`` on PostgreSQL: a killed worker, a lost database server.

Each test runs an upload in worker processes that share the test database, breaks something
in the middle of the file, and checks the outcome against what the file must give: every row
accounted once, counters equal to what was committed, and no duplicate contact.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from bulkupload import services
from bulkupload.importing import UPLOADS
from bulkupload.models import UploadJob
from contacts import services as contact_services
from contacts.models import Activity, Contact, ContactTag
from jobs.services import job_resume_if_stalled
from tests.bulkupload.workers import enqueue_on_database_backend, on_postgres, start_worker, wait

pytestmark = [on_postgres, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def varied_csv(rows: int) -> str:
    """Rows that create contacts, a few that fail (bad phone, bad email) and a few duplicates."""
    lines = ["Name,Phone Number,Country Code,Email,City"]
    for i in range(rows):
        phone = f"97{i:08d}"
        email = f"person{i}@example.com"
        if i % 997 == 500:
            phone = "12"  # too short: the row fails
        elif i % 1013 == 3:
            email = "not-an-email"  # the row fails, naming the email
        elif i > 2000 and i % 1009 == 7:
            phone = f"97{i - 2000:08d}"  # the same phone as an earlier row: skipped
        lines.append(f"Person {i},{phone},91,{email},City {i % 11}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Outcome:
    counts: tuple[int, ...]
    problems: list[tuple[int, str, str]]
    contacts: list[tuple]
    tag_links: int
    activities: int


def outcome(job: UploadJob) -> Outcome:
    job.refresh_from_db()
    counts = (
        job.total,
        job.done,
        job.rows_created,
        job.rows_updated,
        job.rows_unchanged,
        job.rows_skipped,
        job.rows_failed,
    )
    problems = list(job.problems.order_by("row_number").values_list("row_number", "kind", "reason"))
    contacts = list(
        Contact.objects.order_by("phone").values_list("phone", "name", "email", "traits")
    )
    return Outcome(
        counts,
        problems,
        contacts,
        ContactTag.objects.count(),
        Activity.objects.filter(upload_job_id=job.pk).count(),
    )


def confirm_for_worker(job: UploadJob, editor, tag) -> UploadJob:
    services.upload_job_set_tags(job=job, tags=[tag])
    return services.upload_job_confirm(job=job, user=editor)


def empty_contact_tables() -> None:
    tables = ", ".join(m._meta.db_table for m in (Contact, ContactTag, Activity))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def test_sigkilled_worker_in_a_50000_row_upload_ends_like_a_clean_run(
    make_job, editor, media_root, monkeypatch, settings
):
    rows = 50_000
    text = varied_csv(rows)
    tag = contact_services.tag_create(name="Fault drill")

    clean = make_job(text)  # the immediate task backend runs it in this process, undisturbed
    confirm_for_worker(clean, editor, tag)
    expected = outcome(clean)
    assert expected.counts[0] == expected.counts[1] == rows
    assert expected.counts[5] > 0 and expected.counts[6] > 0  # skipped and failed rows exist
    assert len(expected.contacts) == expected.counts[2] == expected.tag_links
    empty_contact_tables()

    monkeypatch.setattr(UPLOADS, "enqueue", enqueue_on_database_backend)
    job = make_job(text)
    confirm_for_worker(job, editor, tag)
    worker = start_worker(media_root)
    try:
        wait(lambda: UploadJob.objects.get(pk=job.pk).done >= 15_000, timeout=300)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.status == UploadJob.Status.RUNNING
    assert 15_000 <= job.done < rows, "the worker must die mid-file"
    assert Contact.objects.count() == job.rows_created  # committed batches only

    settings.BULKUPLOAD_STALE_SECONDS = 1
    time.sleep(1.5)
    worker = start_worker(media_root)
    try:
        assert job_resume_if_stalled(UPLOADS, job_id=job.pk)
        wait(lambda: UploadJob.objects.get(pk=job.pk).is_finished, timeout=300)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (UploadJob.Status.COMPLETED, 2)
    assert outcome(job) == expected


class DatabaseOutage:
    """What a PostgreSQL restart looks like to the worker, without stopping the shared server.

    Every other session on the test database is terminated and new ones are refused until
    ``end`` (run from the maintenance database); this test's own connection stays up to watch.
    """

    def __init__(self) -> None:
        db = connection.settings_dict
        self.name = db["NAME"]
        self.keep = connection.cursor().connection.info.backend_pid
        self.admin = psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )

    def begin(self) -> None:
        self.admin.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false')
        self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s",
            [self.name, self.keep],
        )

    def end(self) -> None:
        self.admin.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')
        self.admin.close()


def assert_reports_only_committed_rows(job_id: int) -> UploadJob:
    job = UploadJob.objects.get(pk=job_id)
    assert Contact.objects.count() >= job.rows_created, "the job reports rows it did not write"
    return job


def finish_with_a_new_worker(job_id: int, media_root) -> UploadJob:
    """Start a worker, watch the job to its end (never over-reporting), stop the worker."""
    worker = start_worker(media_root)
    try:
        wait(lambda: assert_reports_only_committed_rows(job_id).is_finished, timeout=300)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    return UploadJob.objects.get(pk=job_id)


def assert_every_row_once(job: UploadJob, rows: int) -> None:
    assert job.status == UploadJob.Status.COMPLETED
    assert job.done == job.rows_created == job.total == rows
    assert Contact.objects.count() == rows
    assert Activity.objects.filter(upload_job_id=job.pk).count() == rows


def big_csv(rows: int) -> str:
    lines = ["Name,Phone Number,Country Code,City"]
    lines += [f"Person {i},96{i:08d},91,City {i % 7}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def test_database_restart_mid_upload_the_same_run_carries_on(
    make_job, editor, media_root, monkeypatch
):
    rows = 20_000
    monkeypatch.setattr(UPLOADS, "enqueue", enqueue_on_database_backend)
    job = make_job(big_csv(rows))
    services.upload_job_confirm(job=job, user=editor)
    outage = DatabaseOutage()
    worker = start_worker(media_root)
    try:
        wait(lambda: assert_reports_only_committed_rows(job.pk).done >= 4000, timeout=300)
        outage.begin()
        try:
            for _ in range(30):  # three seconds without a database for the worker
                during = assert_reports_only_committed_rows(job.pk)
                assert during.status == UploadJob.Status.RUNNING
                time.sleep(0.1)
        finally:
            outage.end()
        wait(lambda: assert_reports_only_committed_rows(job.pk).is_finished, timeout=300)
        assert worker.poll() is None, "the worker survives the outage"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    job.refresh_from_db()
    assert job.attempts == 1  # the same run reconnected and went on after its last batch
    assert 4000 <= during.done < rows
    assert_every_row_once(job, rows)


def test_database_gone_longer_than_the_wait_job_keeps_progress_and_resume_jobs_resumes_it(
    make_job, editor, editor_client, media_root, monkeypatch, settings
):
    rows = 10_000
    monkeypatch.setattr(UPLOADS, "enqueue", enqueue_on_database_backend)
    job = make_job(big_csv(rows))
    services.upload_job_confirm(job=job, user=editor)
    outage = DatabaseOutage()
    worker = start_worker(media_root, BULKUPLOAD_DATABASE_WAIT_SECONDS="1")
    try:
        wait(lambda: UploadJob.objects.get(pk=job.pk).done >= 2000, timeout=300)
        outage.begin()
        try:
            exit_code = wait(lambda: worker.poll(), timeout=60)  # it gives up and stops
        finally:
            outage.end()
    finally:
        if worker.poll() is None:
            worker.kill()
    assert exit_code != 0
    stopped = assert_reports_only_committed_rows(job.pk)
    assert stopped.status == UploadJob.Status.RUNNING and 2000 <= stopped.done < rows
    assert Contact.objects.count() == stopped.rows_created  # progress kept, nothing extra

    settings.BULKUPLOAD_STALE_SECONDS = 1
    time.sleep(1.5)
    page = editor_client.get(reverse("bulkupload:job", args=[job.pk]))  # staff open the job
    assert page.status_code == 200 and 'data-testid="job-stalled"' in page.content.decode()
    assert UploadJob.objects.get(pk=job.pk).status == UploadJob.Status.RUNNING  # a GET reads
    out = StringIO()
    call_command("resume_jobs", stdout=out)  # what serve-prod runs when a worker restarts
    assert f"1 upload(s) queued again: [{job.pk}]" in out.getvalue()
    assert UploadJob.objects.get(pk=job.pk).status == UploadJob.Status.QUEUED
    job = finish_with_a_new_worker(job.pk, media_root)
    assert job.attempts == 2
    assert_every_row_once(job, rows)


def test_sigterm_stops_the_worker_at_a_batch_boundary_and_the_next_one_carries_on(
    make_job, editor, media_root, monkeypatch
):
    rows = 20_000
    monkeypatch.setattr(UPLOADS, "enqueue", enqueue_on_database_backend)
    job = make_job(big_csv(rows))
    services.upload_job_confirm(job=job, user=editor)
    worker = start_worker(media_root)
    try:
        wait(lambda: UploadJob.objects.get(pk=job.pk).done >= 3000, timeout=300)
        worker.send_signal(signal.SIGTERM)  # a deploy or `systemctl stop`
        assert worker.wait(timeout=20) == 0  # within a batch, not after the whole file
    finally:
        if worker.poll() is None:
            worker.kill()
    handed_back = assert_reports_only_committed_rows(job.pk)
    assert handed_back.status == UploadJob.Status.QUEUED and handed_back.lease == ""
    assert 3000 <= handed_back.done < rows
    assert Contact.objects.count() == handed_back.rows_created

    job = finish_with_a_new_worker(job.pk, media_root)  # it picks the queued job up by itself
    assert job.attempts == 2
    assert_every_row_once(job, rows)

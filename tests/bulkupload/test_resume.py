"""A worker that dies mid-file: the job resumes after the last committed batch."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from bulkupload import importing, services
from bulkupload.importing import UPLOADS, upload_job_work
from bulkupload.models import UploadJob
from contacts import services as contact_services
from contacts.models import Activity, Contact
from contacts.services import Actor
from jobs.runner import MAX_RETRIES_PER_CHUNK, LeaseLost, job_claim
from jobs.services import job_resume_if_stalled
from tests.bulkupload.workers import enqueue_on_database_backend, on_postgres, start_worker, wait


def big_csv(rows: int, *, start: int = 0, extra: str = "") -> str:
    lines = ["Name,Phone Number,Country Code,City" + (",Plan" if extra else "")]
    for i in range(start, start + rows):
        line = f"Person {i},98{i:08d},91,City {i % 7}"
        lines.append(line + (f",{extra}" if extra else ""))
    return "\n".join(lines) + "\n"


def confirm_without_running(job: UploadJob, user) -> UploadJob:
    """Queue a job (creating its new fields) but leave running it to the caller."""
    return services.upload_job_confirm(job=job, user=user)


def assert_every_row_once(job: UploadJob, rows: int) -> None:
    assert job.status == UploadJob.Status.COMPLETED
    assert job.done == job.rows_accounted == job.total == rows
    assert Activity.objects.filter(upload_job_id=job.pk).count() == (
        job.rows_created + job.rows_updated
    )
    assert job.problems.count() == job.rows_skipped + job.rows_failed


@pytest.mark.django_db
def test_run_killed_between_batches_resumes_without_duplicates(
    make_job, editor, monkeypatch, settings, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 10)
    text = big_csv(45) + "Again,9800000003,91,X\n"  # a duplicate of a row before the kill
    job = confirm_without_running(make_job(text), editor)
    real_batch = contact_services.contacts_import_batch
    calls = {"n": 0}

    def dying_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")  # not an Exception: nothing marks the job failed
        return real_batch(**kwargs)

    monkeypatch.setattr(contact_services, "contacts_import_batch", dying_batch)
    with pytest.raises(SystemExit):
        importing.upload_job_run(job_id=job.pk, batch_size=10)
    job.refresh_from_db()
    assert (job.status, job.done, job.last_row_number) == ("running", 20, 21)
    assert Contact.objects.count() == 20

    monkeypatch.setattr(contact_services, "contacts_import_batch", real_batch)
    settings.BULKUPLOAD_STALE_SECONDS = 60
    assert not job_resume_if_stalled(UPLOADS, job_id=job.pk)  # still fresh
    UploadJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert job_resume_if_stalled(UPLOADS, job_id=job.pk)
    job.refresh_from_db()
    assert_every_row_once(job, 46)
    assert (job.rows_created, job.rows_skipped, job.attempts) == (45, 1, 2)
    assert Contact.objects.count() == 45
    (problem,) = job.problems.all()
    assert "row 5" in problem.reason  # the first row with that phone, before the kill


@pytest.mark.django_db
def test_old_run_stops_when_another_took_over(make_job, editor):
    job = confirm_without_running(make_job(big_csv(5)), editor)
    run = job_claim(UPLOADS, job.pk)
    assert run is not None
    UploadJob.objects.filter(pk=job.pk).update(lease="someone-else")
    with pytest.raises(LeaseLost):
        list(upload_job_work(run, batch_size=2))
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_cancel_stops_at_a_batch_boundary(make_job, editor, monkeypatch):
    job = confirm_without_running(make_job(big_csv(30)), editor)

    def cancel_after_first_batch(progress):
        if progress.done == 10:
            services.upload_job_cancel(job=job)

    job = importing.upload_job_run(
        job_id=job.pk, batch_size=10, on_progress=cancel_after_first_batch
    )
    assert job.status == UploadJob.Status.CANCELLED
    assert (job.done, job.rows_created, job.last_row_number) == (10, 10, 11)
    assert Contact.objects.count() == 10


# --- With a real worker process on PostgreSQL (the SIGKILL test is in test_faults.py) -----
@on_postgres
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_uploads_and_api_writes_on_the_same_contacts_lose_no_update(
    make_job, editor, media_root, monkeypatch
):
    rows = 3000
    first = make_job(big_csv(rows))  # sets City
    second = make_job(big_csv(rows, extra="gold"))  # sets City and Plan
    for job in (first, second):
        mapping = list(job.column_mapping)
        services.upload_job_set_mapping(job=job, mapping=mapping, list_separator=";")
    monkeypatch.setattr(UPLOADS, "enqueue", enqueue_on_database_backend)
    services.upload_job_confirm(job=first, user=editor)
    services.upload_job_confirm(job=second, user=editor)
    workers = [start_worker(media_root), start_worker(media_root)]
    try:
        actor = Actor.system()
        for i in range(0, rows, 50):  # API-style writes racing the two uploads
            contact_services.contact_upsert(
                actor=actor,
                phone_number=f"98{i:08d}",
                country_code="91",
                values={"source_system": f"crm-{i}"},
                create_attributes=True,
            )
        for job in (first, second):
            wait(lambda job=job: UploadJob.objects.get(pk=job.pk).is_finished, timeout=180)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    assert Contact.objects.count() == rows
    for i in range(0, rows, 50):
        contact = Contact.objects.get(phone=f"+9198{i:08d}")
        assert contact.traits["source_system"] == f"crm-{i}"
        assert contact.traits["plan"] == "gold"
        assert contact.traits["city"] == f"City {i % 7}"
    for job in (first, second):
        job.refresh_from_db()
        assert_every_row_once(job, rows)


@pytest.mark.django_db
def test_resume_command_requeues_only_stalled_jobs(make_job, editor, settings):
    from io import StringIO

    from django.core.management import call_command

    fresh = confirm_without_running(make_job(big_csv(3)), editor)
    stalled = confirm_without_running(make_job(big_csv(3, start=10)), editor)
    old = timezone.now() - timedelta(hours=1)
    UploadJob.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=timezone.now())
    UploadJob.objects.filter(pk=stalled.pk).update(status="running", heartbeat_at=old)
    out = StringIO()
    call_command("resume_uploads", stdout=out)
    assert f"1 upload(s) queued again: [{stalled.pk}]" in out.getvalue()
    assert UploadJob.objects.get(pk=stalled.pk).status == UploadJob.Status.QUEUED
    assert UploadJob.objects.get(pk=fresh.pk).status == UploadJob.Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_lost_connection_mid_batch_the_run_reconnects_and_carries_on(make_job, editor, monkeypatch):
    from django.db import OperationalError

    monkeypatch.setattr(UPLOADS, "enqueue", lambda job_id: None)  # run below, by hand
    job = confirm_without_running(make_job(big_csv(35)), editor)
    real_batch = contact_services.contacts_import_batch
    calls = {"n": 0}

    def flaky_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] in (2, 3):  # the server goes away twice while the second batch runs
            raise OperationalError("server closed the connection unexpectedly")
        return real_batch(**kwargs)

    monkeypatch.setattr(contact_services, "contacts_import_batch", flaky_batch)
    job = importing.upload_job_run(job_id=job.pk, batch_size=10)
    assert (job.status, job.attempts, calls["n"]) == ("completed", 1, 6)
    assert_every_row_once(job, 35)
    assert Contact.objects.count() == job.rows_created == 35


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_failing_every_time_fails_the_job_visibly_keeping_progress(
    make_job, editor, monkeypatch
):
    from django.db import OperationalError

    monkeypatch.setattr(UPLOADS, "enqueue", lambda job_id: None)  # run below, by hand
    job = confirm_without_running(make_job(big_csv(35)), editor)
    real_batch = contact_services.contacts_import_batch
    calls = {"n": 0}

    def broken_after_first(**kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OperationalError("disk I/O error")
        return real_batch(**kwargs)

    monkeypatch.setattr(contact_services, "contacts_import_batch", broken_after_first)
    with pytest.raises(OperationalError):
        importing.upload_job_run(job_id=job.pk, batch_size=10)
    job.refresh_from_db()
    assert job.status == UploadJob.Status.FAILED
    assert "unexpected error" in job.error_message
    assert (job.done, job.rows_created, job.last_row_number) == (10, 10, 11)
    assert Contact.objects.count() == 10
    assert calls["n"] == 1 + 1 + MAX_RETRIES_PER_CHUNK  # one batch, then 1 + retries


@pytest.mark.django_db(transaction=True)
def test_a_stopping_worker_hands_the_job_back_at_a_batch_boundary(make_job, editor, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(UPLOADS, "enqueue", queued.append)
    job = confirm_without_running(make_job(big_csv(35)), editor)
    assert queued == [job.pk]
    stop_after = {"batches": 2}

    def should_stop() -> bool:
        stop_after["batches"] -= 1
        return stop_after["batches"] <= 0

    job = importing.upload_job_run(job_id=job.pk, batch_size=10, should_stop=should_stop)
    assert (job.status, job.lease, job.done, job.last_row_number) == ("queued", "", 20, 21)
    assert queued == [job.pk, job.pk]  # queued again for the next worker
    assert Contact.objects.count() == 20

    job = importing.upload_job_run(job_id=job.pk, batch_size=10)
    assert job.attempts == 2
    assert_every_row_once(job, 35)

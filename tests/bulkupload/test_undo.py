from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bulkupload import undoing
from bulkupload.models import UploadJob, UploadUndo
from contacts.models import Activity, Contact, Tag
from contacts.services import Actor, contact_field_update, contact_tags_add
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

TEXT = (
    "Name,Phone,Country Code,City\n"
    "Asha,9876500001,91,Pune\n"
    "Ravi,9876500002,91,Goa\n"
    "Mira,9876500003,91,Delhi\n"
)


@pytest.fixture
def imported(make_job, run_job, editor):
    """An upload that created Asha and Ravi, changed Mira's name and city, tagged all."""
    make_contact(phone_number="9876500003", name="Old Mira")
    job = make_job(TEXT)
    assert job.column_mapping[3] == {"kind": "new", "label": "City", "type": "text"}
    tag = Tag.objects.create(name="Expo", name_key="expo")
    job = run_job(job, tags=[tag])
    assert (job.rows_created, job.rows_updated) == (2, 1)
    return job


def undo(job: UploadJob, editor) -> UploadUndo:
    started = undoing.upload_undo_start(upload=job, user=editor, enqueue=False)
    return undoing.upload_undo_run(undo_id=started.pk, chunk_size=2)


def test_undo_deletes_created_restores_changed_removes_tags(imported, editor):
    preview = undoing.upload_undo_preview(imported)
    assert (preview.created, preview.updated, preview.with_tags) == (2, 1, 3)
    assert preview.changed_since == 0
    done = undo(imported, editor)
    assert done.status == "completed"
    assert (done.contacts_deleted, done.contacts_restored, done.tags_removed) == (2, 1, 1)
    assert done.done == done.total == 3
    mira = Contact.objects.get()
    assert mira.name == "Old Mira"
    assert "city" not in mira.traits
    assert not mira.tags.exists()
    entry = mira.activities.first()
    assert entry.actor_user == editor
    assert entry.changes["undo_of_upload"] == imported.pk
    assert entry.changes["fields"]["name"] == ["Mira", "Old Mira"]
    assert entry.changes["tags_removed"] == ["Expo"]


def test_values_and_contacts_changed_since_are_kept_and_listed(imported, editor, manager):
    asha = Contact.objects.get(phone="+919876500001")
    mira = Contact.objects.get(phone="+919876500003")
    contact_field_update(actor=Actor.web(manager), contact_id=asha.pk, field_key="name", value="A")
    contact_field_update(actor=Actor.web(manager), contact_id=mira.pk, field_key="city", value="X")
    assert undoing.upload_undo_preview(imported).changed_since == 2
    done = undo(imported, editor)
    assert Contact.objects.filter(pk=asha.pk).exists()  # created, then edited: kept
    assert not Contact.objects.filter(phone="+919876500002").exists()
    mira.refresh_from_db()
    assert mira.name == "Old Mira"  # not touched since: restored
    assert mira.traits["city"] == "X"  # changed since: kept
    kept = {(k.contact_id, k.field): k.reason for k in done.kept.all()}
    assert set(kept) == {(asha.pk, ""), (mira.pk, "city")}
    assert manager.get_username() in kept[(mira.pk, "city")]


def test_tag_removed_since_is_not_touched_again(imported, editor):
    mira = Contact.objects.get(phone="+919876500003")
    contact_tags_add(actor=Actor.web(editor), contact_id=mira.pk, names=["Other"])
    done = undo(imported, editor)
    mira.refresh_from_db()
    assert sorted(t.name for t in mira.tags.all()) == ["Other"]
    assert done.kept_count == 0


def test_undoing_twice_and_a_running_upload_are_refused(imported, editor, make_job):
    undo(imported, editor)
    with pytest.raises(undoing.UndoRefused, match="already undone"):
        undoing.upload_undo_start(upload=imported, user=editor)
    running = make_job(TEXT)
    UploadJob.objects.filter(pk=running.pk).update(status=UploadJob.Status.RUNNING)
    running.refresh_from_db()
    with pytest.raises(undoing.UndoRefused, match="still running"):
        undoing.upload_undo_start(upload=running, user=editor)
    draft = make_job(TEXT)
    assert "never imported" in undoing.upload_undo_refusal(draft)


def test_command_dry_run_counts_and_changes_nothing_then_undoes(imported):
    out = io.StringIO()
    call_command("undo_upload", str(imported.pk), "--dry-run", stdout=out)
    assert "created 2 contacts, changed 1, tagged 3" in out.getvalue()
    assert "Would delete 2 contacts, restore 1" in out.getvalue()
    assert Contact.objects.count() == 3
    out = io.StringIO()
    call_command("undo_upload", str(imported.pk), stdout=out)
    assert "Undo completed: deleted 2 contacts, restored 1" in out.getvalue()
    assert Contact.objects.count() == 1
    assert Activity.objects.filter(changes__undo_of_upload=imported.pk).count() == 1
    with pytest.raises(CommandError, match="already undone"):
        call_command("undo_upload", str(imported.pk))


def test_undo_resumes_after_the_last_committed_chunk(imported, editor):
    started = undoing.upload_undo_start(upload=imported, user=editor, enqueue=False)
    stopped = undoing.upload_undo_run(undo_id=started.pk, chunk_size=2, should_stop=lambda: True)
    assert (stopped.status, stopped.done) == ("queued", 2)
    finished = undoing.upload_undo_run(undo_id=started.pk, chunk_size=2)
    assert (finished.status, finished.done, finished.contacts_deleted) == ("completed", 3, 2)
    assert Contact.objects.count() == 1


def test_undo_page_previews_then_undoes_and_the_upload_shows_undone(
    imported, editor_client, django_capture_on_commit_callbacks
):
    url = reverse("bulkupload:undo", args=[imported.pk])
    page = editor_client.get(url).content.decode()
    assert 'data-testid="preview-created">2<' in page
    assert 'data-testid="preview-updated">1<' in page
    assert Contact.objects.count() == 3  # a GET only reads
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url)
    assert response.status_code == 302
    assert Contact.objects.count() == 1
    page = editor_client.get(url).content.decode()
    assert 'data-testid="undo-deleted">2<' in page
    job_page = editor_client.get(reverse("bulkupload:job", args=[imported.pk])).content.decode()
    assert "Undone on" in job_page
    listing = editor_client.get(reverse("bulkupload:list")).content.decode()
    assert 'data-testid="upload-undone"' in listing
    again = editor_client.post(url, follow=True).content.decode()
    assert "was already undone" in again


def test_undo_page_refuses_a_running_upload_and_viewers(make_job, editor_client, viewer_client):
    job = make_job(TEXT)
    UploadJob.objects.filter(pk=job.pk).update(status=UploadJob.Status.RUNNING)
    url = reverse("bulkupload:undo", args=[job.pk])
    assert "still running" in editor_client.get(url).content.decode()
    editor_client.post(url)
    assert not UploadUndo.objects.exists()
    assert viewer_client.post(url).status_code == 403


def test_upload_list_reads_undos_in_one_query(imported, editor, editor_client, make_job):
    undo(imported, editor)
    make_job(TEXT)
    with CaptureQueriesContext(connection) as one:
        editor_client.get(reverse("bulkupload:list"))
    make_job(TEXT)
    with CaptureQueriesContext(connection) as two:
        editor_client.get(reverse("bulkupload:list"))
    assert len(two) == len(one)

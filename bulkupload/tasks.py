"""Background work for bulk uploads (django.tasks on the django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task

from bulkupload.models import UploadJob, UploadUndo
from jobs.registry import job_kind_for
from jobs.services import job_run_in_worker


@task()
def import_upload_job(job_id: int) -> dict[str, int | str]:
    """Import (or resume importing) one confirmed upload job."""
    job = job_run_in_worker(job_kind_for(UploadJob), job_id=job_id)
    return {"status": job.status, "done": job.done}


@task()
def undo_upload_job(undo_id: int) -> dict[str, int | str]:
    """Carry out (or carry on with) the undo of one upload."""
    undo = job_run_in_worker(job_kind_for(UploadUndo), job_id=undo_id)
    return {"status": undo.status, "done": undo.done}

"""Background work for bulk uploads (django.tasks on the django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task

from bulkupload import services


@task()
def import_upload_job(job_id: int) -> dict[str, int | str]:
    """Import (or resume importing) one confirmed upload job."""
    job = services.upload_job_run(job_id=job_id)
    return {"status": job.status, "rows_done": job.rows_done}

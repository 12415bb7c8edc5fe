"""Background work for bulk uploads (django.tasks on the django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task

from bulkupload import services
from contacthub.workers import shutdown_requested


@task()
def import_upload_job(job_id: int) -> dict[str, int | str]:
    """Import (or resume importing) one confirmed upload job."""
    with shutdown_requested() as stopping:
        job = services.upload_job_run(job_id=job_id, should_stop=stopping.is_set)
    return {"status": job.status, "rows_done": job.rows_done}

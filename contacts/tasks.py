"""Background work for the contact list (django.tasks on the django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task

from contacts.models import BulkAction, DuplicateScan, FieldChange
from jobs.registry import job_kind_for
from jobs.services import job_run_in_worker


@task()
def run_bulk_action(action_id: int) -> dict[str, int | str]:
    """Carry out (or carry on with) a bulk action from the contact list."""
    action = job_run_in_worker(job_kind_for(BulkAction), job_id=action_id)
    return {"status": action.status, "done": action.done}


@task()
def run_duplicate_scan(scan_id: int) -> dict[str, int | str]:
    """Carry out (or carry on with) a search for duplicate contacts."""
    scan = job_run_in_worker(job_kind_for(DuplicateScan), job_id=scan_id)
    return {"status": scan.status, "done": scan.done}


@task()
def run_field_change(change_id: int) -> dict[str, int | str]:
    """Carry out (or carry on with) a change to a custom field: kind, delete, index."""
    change = job_run_in_worker(job_kind_for(FieldChange), job_id=change_id)
    return {"status": change.status, "done": change.done}

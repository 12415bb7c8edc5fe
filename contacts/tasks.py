"""Background work for the contact list (django.tasks on the django-tasks-db backend)."""

from __future__ import annotations

from django.tasks import task

from contacthub.workers import shutdown_requested
from contacts import services


@task()
def run_bulk_action(action_id: int) -> dict[str, int | str]:
    """Carry out (or carry on with) a bulk action from the contact list."""
    with shutdown_requested() as stopping:
        action = services.bulk_action_run(action_id=action_id, should_stop=stopping.is_set)
    return {"status": action.status, "done": action.done}

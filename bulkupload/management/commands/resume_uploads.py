"""Queue again the imports whose worker died: the older name of ``manage.py resume_jobs``,
which now resumes every kind of background job (uploads and bulk actions alike)."""

from __future__ import annotations

from jobs.management.commands import resume_jobs


class Command(resume_jobs.Command):
    pass

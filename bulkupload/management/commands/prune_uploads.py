"""Remove the stored files of old uploads: ``manage.py prune_jobs`` for the uploads alone."""

from __future__ import annotations

from jobs.management.commands import prune_jobs


class Command(prune_jobs.Command):
    help = (
        "Remove the uploaded CSV files and saved error reports of uploads that finished "
        "(completed, failed, cancelled) or were left as drafts more than N days ago. Job rows, "
        "their totals and error reports stay; queued and running uploads are never touched."
    )
    kinds = ("uploads",)

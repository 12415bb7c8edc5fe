from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from bulkupload import services
from bulkupload.models import UploadJob


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def csv_file(text: str | bytes, name: str = "contacts.csv", encoding: str = "utf-8") -> ContentFile:
    data = text.encode(encoding) if isinstance(text, str) else text
    return ContentFile(data, name=name)


@pytest.fixture
def make_job(editor):
    def make(text: str | bytes, *, name: str = "contacts.csv", encoding: str = "utf-8"):
        return services.upload_job_create(
            user=editor, file=csv_file(text, name, encoding), name=name
        )

    return make


@pytest.fixture
def run_job(editor, django_capture_on_commit_callbacks):
    """Confirm a draft job and run the import (the immediate task backend runs it at commit)."""

    def run(job: UploadJob, tags=()) -> UploadJob:
        if tags:
            services.upload_job_set_tags(job=job, tags=tags)
        with django_capture_on_commit_callbacks(execute=True):
            services.upload_job_confirm(job=job, user=editor)
        return UploadJob.objects.get(pk=job.pk)

    return run

"""Real ``db_worker`` processes sharing the PostgreSQL test database, for the fault tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL): a real db_worker process shares the test database",
)


def worker_env(media_root: Path, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "contacthub.settings",
        "MEDIA_ROOT": str(media_root),
        "SECRET_KEY": "worker-for-tests",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(media_root: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        cwd=ROOT,
        env=worker_env(media_root, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def enqueue_on_database_backend(job_id: int) -> None:
    """Queue the task where a db_worker finds it (the test settings run tasks immediately)."""
    from django_tasks_db.backend import DatabaseBackend

    from bulkupload.tasks import import_upload_job

    DatabaseBackend(alias="default", params={}).enqueue(import_upload_job, (job_id,), {})


def wait[T](predicate: Callable[[], T | None], timeout: float = 120.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")

"""The rate limit holds across connections and processes (api/throttling.py).

A limiter whose count lived in one process's memory would let each web process (and each
restart) start the count again; these tests fail for such a store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
PING = "/v1/public/ping/"


def _in_another_thread(secret: str) -> int:
    """A ping from a thread with its own database connection."""
    statuses: list[int] = []

    def ping() -> None:
        try:
            assert connections["default"] is not connection_in_test_thread
            statuses.append(ApiClient(secret).get(PING).status_code)
        finally:
            connections.close_all()

    connection_in_test_thread = connections["default"]
    thread = threading.Thread(target=ping)
    thread.start()
    thread.join()
    return statuses[0]


@pytest.mark.django_db(transaction=True)
def test_limit_holds_for_a_second_connection(new_key, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "2/3600"
    api = ApiClient(new_key.secret)

    assert [api.get(PING).status_code for _ in range(2)] == [200, 200]
    assert _in_another_thread(new_key.secret) == 429


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a second process needs a database it can open: SQLite's test database is in memory",
)
def test_limit_holds_in_another_process(new_key, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "2/3600"
    api = ApiClient(new_key.secret)
    assert [api.get(PING).status_code for _ in range(2)] == [200, 200]

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = (
        "import sys, django; django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get(sys.argv[1], headers={'Authorization': 'Basic ' + sys.argv[2]})\n"
        "print(response.status_code)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contacthub.test_settings",
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "testserver",
        "CONTACTHUB_API_RATE_LIMIT": "2/3600",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, PING, new_key.secret],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "429"


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="UNLOGGED tables are PostgreSQL's: SQLite has no WAL flush per table",
)
def test_counts_skip_the_write_ahead_log_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'api_ratewindow'")
        assert cursor.fetchone() == ("u",)


@pytest.mark.django_db
def test_one_statement_counts_a_request(api):
    api.get(PING)  # the window's first request also deletes older windows
    with CaptureQueriesContext(connection) as statements:
        assert api.get(PING).status_code == 200
    counting = [q["sql"] for q in statements.captured_queries if "api_ratewindow" in q["sql"]]
    assert len(counting) == 1

"""The rate limit holds across cache clients, connections and processes (api/throttling.py).

A limiter whose history lived in one process's memory would let each web process (and each
restart) start the count again; these tests fail for such a store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, connections

from api.throttling import RATE_LIMIT_CACHE
from tests.api.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
PING = "/v1/public/ping/"


@pytest.mark.django_db
def test_the_store_is_not_process_local():
    assert not isinstance(caches[RATE_LIMIT_CACHE], (LocMemCache, DummyCache))


def _in_another_thread(secret: str) -> int:
    """A ping from a thread with its own cache client and database connection."""
    statuses: list[int] = []

    def ping() -> None:
        try:
            assert caches[RATE_LIMIT_CACHE] is not caches_in_test_thread
            statuses.append(ApiClient(secret).get(PING).status_code)
        finally:
            connections.close_all()

    caches_in_test_thread = caches[RATE_LIMIT_CACHE]
    thread = threading.Thread(target=ping)
    thread.start()
    thread.join()
    return statuses[0]


@pytest.mark.django_db(transaction=True)
def test_limit_holds_for_a_second_cache_client(new_key, settings):
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

from __future__ import annotations

import os

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings

from tests.factories import UserFactory

# Property tests assert results, never speed (benchmarks in bench/ do): no per-example deadline,
# which a busy machine would turn into failures.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")


def pytest_configure(config: pytest.Config) -> None:
    """CI says which database a leg must run on, so that a wrong URL cannot pass silently."""
    expected = os.environ.get("CONTACTHUB_EXPECT_DB")
    if expected:
        from django.db import connection

        if connection.vendor != expected:
            raise pytest.UsageError(f"expected the {expected} database, got {connection.vendor}")


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", groups=["Viewers"])


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", groups=["Editors"])


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", groups=["Managers"], is_staff=True)


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def viewer_client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def editor_client(editor) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def manager_client(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def admin_client_(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client

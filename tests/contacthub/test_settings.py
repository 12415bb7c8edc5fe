"""Settings come from the environment; production settings pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# Variables of the test run itself that must not leak into the checked process (the browser
# tests allow sync ORM calls next to Playwright's event loop; a deployment never does).
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "HTTPS",
    "SECRET_KEY",
    "DATABASE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-only-secret-0123456789abcdefXYZ",
    "ALLOWED_HOSTS": "contacts.example.com",
    "HTTPS": "true",
    "DJANGO_SETTINGS_MODULE": "contacthub.settings",
}


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "CONTACTHUB_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_defaults_are_flagged_by_check_deploy(tmp_path):
    """Without HTTPS the deploy check must complain: the defaults are for 127.0.0.1 only."""
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={"DJANGO_SETTINGS_MODULE": "contacthub.settings", "CONTACTHUB_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgres://u:p@db.example.com:5432/contacts", "django.db.backends.postgresql"),
        ("sqlite:////tmp/x.sqlite3", "django.db.backends.sqlite3"),
    ],
)
def test_database_url_chooses_the_database(url, engine, tmp_path):
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = run_manage(
        "shell",
        "-c",
        code,
        env={
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "contacthub.settings",
            "CONTACTHUB_VAR_DIR": str(tmp_path),
        },
    )
    assert result.stdout.strip().splitlines()[-1] == engine, result.stderr


def test_embedded_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path):
    code = (
        "from django.db import connection; c = connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0],"
        " c.execute('PRAGMA busy_timeout').fetchone()[0])"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        env={"DJANGO_SETTINGS_MODULE": "contacthub.settings", "CONTACTHUB_VAR_DIR": str(tmp_path)},
    )
    assert result.stdout.strip().splitlines()[-1] == "wal 20000", result.stderr


def test_secret_key_without_environment_is_random_and_kept(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {"DJANGO_SETTINGS_MODULE": "contacthub.settings", "CONTACTHUB_VAR_DIR": str(tmp_path)}
    first = run_manage("shell", "-c", code, env=env).stdout.strip().splitlines()[-1]
    second = run_manage("shell", "-c", code, env=env).stdout.strip().splitlines()[-1]
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

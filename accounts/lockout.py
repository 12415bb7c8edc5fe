"""Log-in lock-out with django-axes: too many failures lock an account, and an address.

axes records failures in its ``AccessAttempt`` table (the database handler, so every web
process sees the same counts) and its authentication backend refuses a locked log-in before
the password is looked at. What this module adds to axes:

- a limit per lock-out parameter (axes has one ``AXES_FAILURE_LIMIT``):
  ``LOGIN_FAILURES_PER_ACCOUNT`` failures for one username (any address) or
  ``LOGIN_FAILURES_PER_ADDRESS`` from one address (any username) lock it for
  ``LOGIN_FAILURE_WINDOW`` seconds after the last of them;
- usernames compared without case ("ANA" and "ana" are one account);
- a success clears the account's failures, not the address's (someone logging into their
  own account must not wipe the count of the guesses made from the same address);
- ``attempt_lock``: the check, the password test and the count of a log-in are one step per
  account and per address, so concurrent wrong passwords cannot all pass the check before
  any of them is counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """``AXES_COOLOFF_TIME``: read when used, so the setting can change at run time."""
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def username_key(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """``AXES_USERNAME_CALLABLE``: the username as typed, compared without case."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username")
    return (raw or "").casefold()[:150]


def keep_response(
    request: HttpRequest, response: HttpResponse, credentials: dict[str, Any] | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the log-in page already says why and for how long."""
    return response


class LockoutBackend(AxesStandaloneBackend):
    """axes' check for log-ins that come with a request (the log-in pages).

    Code that checks a password without one (``Client.login`` in tests, scripts) has no
    address to count and nobody guessing; axes would refuse it outright.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is not None:
            super().authenticate(request, *args, **kwargs)


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit for the account and another for the address."""

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return self.lockout_remaining(request, credentials) is not None

    def lockout_remaining(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> timedelta | None:
        """How long until this account and address may try again; None if they may now."""
        now = timezone.now()
        recent = AccessAttempt.objects.filter(attempt_time__gte=now - cool_off(request))
        groups = [
            (
                recent.filter(username=get_client_username(request, credentials)),
                settings.LOGIN_FAILURES_PER_ACCOUNT,
            )
        ]
        address = getattr(request, "axes_ip_address", None)
        if address:
            groups.append((recent.filter(ip_address=address), settings.LOGIN_FAILURES_PER_ADDRESS))
        until = [last + cool_off(request) for last in _locked_since(groups)]
        return max(until) - now if until else None

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def _locked_since(groups: list[tuple[QuerySet[AccessAttempt], int]]) -> Iterator[Any]:
    """The last failure of each group that reached its limit."""
    for attempts, limit in groups:
        totals = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (totals["failures"] or 0) >= limit:
            yield totals["last"]


def minutes_left(remaining: timedelta) -> int:
    return max(1, math.ceil(remaining.total_seconds() / 60))


@contextmanager
def attempt_lock(*, username: str, address: str | None) -> Iterator[None]:
    """One log-in at a time per account and per address, until the transaction ends.

    PostgreSQL: transaction-scoped advisory locks, the account's first (every log-in takes
    them in that order, so two cannot wait on each other). SQLite: the settings open every
    transaction with ``BEGIN IMMEDIATE``, which already lets one writer in at a time.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for key in (f"login-account:{username.casefold()}", f"login-address:{address}"):
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        yield

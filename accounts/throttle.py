"""Log-in throttling: too many failures lock an account, and an address, for a while.

Failures are rows in the database, so every web process sees the same counts.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import LoginFailure


def _window() -> timedelta:
    return timedelta(seconds=getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60))


def lockout_remaining(*, username: str, address: str | None) -> timedelta | None:
    """How long until this account or address may try again, or ``None`` if it may now."""
    since = timezone.now() - _window()
    recent = LoginFailure.objects.filter(at__gte=since)
    per_account = getattr(settings, "LOGIN_FAILURES_PER_ACCOUNT", 5)
    per_address = getattr(settings, "LOGIN_FAILURES_PER_ADDRESS", 20)
    oldest = []
    account = recent.filter(username=username.casefold()).order_by("-at")[:per_account]
    if len(account) >= per_account:
        oldest.append(account[per_account - 1].at)
    if address:
        by_address = recent.filter(address=address).order_by("-at")[:per_address]
        if len(by_address) >= per_address:
            oldest.append(by_address[per_address - 1].at)
    if not oldest:
        return None
    return max(oldest) + _window() - timezone.now()


def record_failure(*, username: str, address: str | None) -> None:
    with transaction.atomic():
        LoginFailure.objects.create(username=username.casefold()[:150], address=address)
        LoginFailure.objects.filter(at__lt=timezone.now() - _window()).delete()


def clear_failures(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.casefold()).delete()

"""Per-key rate limits: django-ninja's throttle, with its history in a shared cache.

The history of each key lives in the ``"ratelimit"`` cache (settings.CACHES): the database
table ``api_ratelimit_cache`` by default, Redis when ``CACHE_URL``/``REDIS_URL`` is set. Both
are shared by every web process on every machine and survive restarts; a per-process cache
would multiply the limit by the number of processes.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.http import HttpRequest
from ninja.throttling import AuthRateThrottle

RATE_LIMIT_CACHE = "ratelimit"
RATE_LIMIT_TABLE = "api_ratelimit_cache"  # created by api/migrations/0001 (settings name it too)
DEFAULT_RATE_LIMIT = "600/60"
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
_PERIODS["hour"] = 3600


def rate_limit_setting() -> tuple[int, int] | None:
    """``CONTACTHUB_API_RATE_LIMIT`` as (requests, seconds); ``None`` when turned off.

    Written ``"600/60"`` (600 requests per 60 seconds) or ``"600/minute"``; ``"0"`` or ``""``
    turns the limit off.
    """
    value = str(getattr(settings, "CONTACTHUB_API_RATE_LIMIT", DEFAULT_RATE_LIMIT) or "").strip()
    match = re.fullmatch(r"(\d+)\s*(?:/\s*(\d+|[a-z]+))?", value.lower())
    if not match or int(match[1]) == 0:
        return None
    period = match[2] or "60"
    seconds = int(period) if period.isdigit() else _PERIODS.get(period)
    if not seconds:
        return None
    return int(match[1]), seconds


class ApiKeyThrottle(AuthRateThrottle):
    """ninja's sliding-window throttle, one history per API key.

    Changes to ninja's class, each for a reason:
    - the rate is read from the setting on every request (it can change without a restart,
      and tests change it), not parsed once at import;
    - keyed by the key's id: ninja hashes ``str(request.auth)``, the key's name, which two
      keys may share;
    - the read-and-write of a key's history runs under a lock of the database that holds it
      (a transaction on SQLite, whose writers queue; an advisory lock on PostgreSQL), so
      concurrent requests in several processes are all counted. Redis gets no lock: the
      history is then counted as ninja counts it, which can let a few concurrent requests
      over the limit;
    - the per-request state ninja keeps on the instance is kept per thread, because one
      instance serves every request of the process.
    """

    scope = "api_key"
    _PER_REQUEST = frozenset({"key", "history", "now"})

    def __init__(self) -> None:
        self._state = threading.local()

    # ninja's SimpleRateThrottle keeps key, history and now on the instance between calls.
    def __getattr__(self, name: str) -> Any:
        if name in self._PER_REQUEST:
            try:
                return getattr(self._state, name)
            except AttributeError:
                raise AttributeError(name) from None
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._PER_REQUEST:
            setattr(self._state, name, value)
        else:
            super().__setattr__(name, value)

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        return caches[RATE_LIMIT_CACHE]

    @property
    def num_requests(self) -> int | None:  # type: ignore[override]
        limit = rate_limit_setting()
        return limit[0] if limit else None

    @property
    def duration(self) -> int | None:  # type: ignore[override]
        limit = rate_limit_setting()
        return limit[1] if limit else None

    def get_cache_key(self, request: HttpRequest) -> str | None:  # type: ignore[override]
        if rate_limit_setting() is None or getattr(request, "auth", None) is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def cost(self, request: HttpRequest) -> int:
        """How many requests this one counts as."""
        return 1

    def allow_request(self, request: HttpRequest) -> bool:
        """ninja's sliding window, with a request counting ``cost`` requests.

        The history holds, newest first, a request's time, or ``[time, cost]`` for one that
        counts as several (a batch): one entry per request, whatever its cost.
        """
        self.key = self.get_cache_key(request)
        if self.key is None:
            return True
        cost = self.cost(request)
        with _exclusive(self.cache, self.key):
            self.history = self.cache.get(self.key, [])
            self.now = self.timer()
            while self.history and _moment(self.history[-1]) <= self.now - self.duration:
                self.history.pop()
            counted = sum(1 if isinstance(entry, float) else entry[1] for entry in self.history)
            if counted + cost > self.num_requests:
                return self.throttle_failure()
            self.history.insert(0, self.now if cost == 1 else [self.now, cost])
            self.cache.set(self.key, self.history, self.duration)
            return True

    def wait(self) -> float | None:
        """Until the oldest request leaves the window."""
        if not self.history:
            return self.duration
        return self.duration - (self.now - _moment(self.history[-1]))


def _moment(entry: float | list[float]) -> float:
    return entry if isinstance(entry, float) else entry[0]


class ApiKeyItemsThrottle(ApiKeyThrottle):
    """The batch's throttle: each user in ``{"users": [...]}`` counts as one request, in the
    same history as the single calls. A batch larger than the whole limit is never allowed:
    send smaller ones."""

    def cost(self, request: HttpRequest) -> int:
        try:
            users = json.loads(request.body).get("users")
        except (ValueError, AttributeError):
            return 1  # the body's own error is answered after the throttle
        return max(1, len(users)) if isinstance(users, list) else 1


@contextmanager
def _exclusive(cache: BaseCache, key: str) -> Iterator[None]:
    """Hold the lock of ``key``'s history while it is read and written back (database caches)."""
    if not isinstance(cache, DatabaseCache):
        yield
        return
    alias = router.db_for_write(cache.cache_model_class)
    connection = connections[alias]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
            # A history lost in a crash is harmless, a disk flush on every request is not: this
            # transaction's commit does not wait for the disk (only when it is its own; inside
            # a caller's transaction the setting would relax the caller's commit too).
            relax = ", set_config('synchronous_commit', 'off', true)" if outermost else ""
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_xact_lock(%s){relax}", [lock_id])
        # SQLite: the transaction itself is the lock (BEGIN IMMEDIATE, see settings.DATABASES).
        yield

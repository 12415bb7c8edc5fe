"""Per-key rate limits: django-ninja's throttle, counted with one statement per request.

ninja's ``AuthRateThrottle`` decides where the limit applies (every operation, per key) and
turns a refusal into 429 with ``Retry-After`` (api/errors.py). Its own store, a list of
request times in a Django cache, is not used: the database cache reads and writes that list
in six statements under a lock per key, which serialises a key's requests across processes.
Instead each request is counted in :class:`~api.models.RateWindow` by one atomic
``INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`` (SQLite and PostgreSQL): the
row is written only if the request fits, so concurrent requests in any number of processes
are all counted and never over-admitted.

The count is a sliding window estimated from two fixed windows: the current window's
requests plus the previous window's, weighted by how much of it still overlaps the last
``period`` seconds. It never lets more than the limit through in any window of ``period``
seconds when requests are spread evenly, and at most the limit within each fixed window.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.throttling import AuthRateThrottle

from api.models import RateWindow

DEFAULT_RATE_LIMIT = "600/60"
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
_PERIODS["hour"] = 3600


def rate_limit_setting() -> tuple[int, int] | None:
    """``CONTACTHUB_API_RATE_LIMIT`` as (requests, seconds); ``None`` when turned off.

    Written ``"600/60"`` (600 requests per 60 seconds) or ``"600/minute"``; ``"0"`` or ``""``
    turns the limit off.
    """
    return _parse_rate_limit(getattr(settings, "CONTACTHUB_API_RATE_LIMIT", DEFAULT_RATE_LIMIT))


@functools.lru_cache(maxsize=16)
def _parse_rate_limit(setting: object) -> tuple[int, int] | None:
    """The setting's value parsed (kept: the setting is read on every request)."""
    value = str(setting or "").strip()
    match = re.fullmatch(r"(\d+)\s*(?:/\s*(\d+|[a-z]+))?", value.lower())
    if not match or int(match[1]) == 0:
        return None
    period = match[2] or "60"
    seconds = int(period) if period.isdigit() else _PERIODS.get(period)
    if not seconds:
        return None
    return int(match[1]), seconds


def _count_sql() -> str:
    return _count_sql_for(connection.vendor)


@functools.cache
def _count_sql_for(vendor: str) -> str:
    """The counting statement, written once per process (both databases spell it alike;
    keyed by vendor all the same, as a process may use either)."""
    table = connection.ops.quote_name(RateWindow._meta.db_table)
    previous = (
        f"COALESCE((SELECT p.used FROM {table} p "
        "WHERE p.name = %(name)s AND p.slot = %(slot)s - 1), 0)"
    )
    return (
        f"INSERT INTO {table} (name, slot, used) SELECT %(name)s, %(slot)s, %(cost)s "
        f"WHERE %(cost)s + %(weight)s * {previous} <= %(limit)s "
        f"ON CONFLICT (name, slot) DO UPDATE SET used = {table}.used + excluded.used "
        f"WHERE {table}.used + excluded.used + %(weight)s * {previous} <= %(limit)s "
        f"RETURNING used"
    )


class ApiKeyThrottle(AuthRateThrottle):
    """ninja's per-key throttle with the one-statement count above.

    The rate is read from the setting on every request (it can change without a restart, and
    tests change it). Keyed by the key's id, not ninja's hash of the key's name, which two
    keys may share. The seconds to wait after a refusal are kept per thread, because one
    instance serves every request of the process.
    """

    scope = "api_key"
    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self._state = threading.local()

    def get_cache_key(self, request: HttpRequest) -> str | None:  # type: ignore[override]
        if getattr(request, "auth", None) is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def cost(self, request: HttpRequest) -> int:
        """How many requests this one counts as."""
        return 1

    def allow_request(self, request: HttpRequest) -> bool:
        self._state.wait = None
        limit = rate_limit_setting()
        name = self.get_cache_key(request)
        if limit is None or name is None:
            return True
        allowed, period = limit
        cost = self.cost(request)
        now = self.timer()
        slot = int(now // period)
        elapsed = now / period - slot  # share of the current window gone, 0 to 1
        if cost > allowed:
            self._state.wait = float(period)  # never fits: send smaller batches
            return False
        params = {"name": name, "slot": slot, "cost": cost, "limit": allowed}
        params["weight"] = 1.0 - elapsed
        with connection.cursor() as cursor:
            cursor.execute(_count_sql(), params)
            row = cursor.fetchone()
            if row is None:
                self._state.wait = self._wait(params, elapsed, period)
                return False
            if row[0] == cost:  # most likely this key's first request of the window
                cursor.execute(
                    f"DELETE FROM {connection.ops.quote_name(RateWindow._meta.db_table)} "
                    "WHERE name = %s AND slot < %s",
                    [name, slot - 1],
                )
        return True

    def wait(self) -> float | None:
        return getattr(self._state, "wait", None)

    @staticmethod
    def _wait(params: dict, elapsed: float, period: int) -> float:
        """Seconds until a request of this cost fits, if no other request comes meanwhile
        (to the millisecond, so that float error cannot add a second to ``Retry-After``)."""
        windows = dict(
            RateWindow.objects.filter(
                name=params["name"], slot__in=[params["slot"] - 1, params["slot"]]
            ).values_list("slot", "used")
        )
        current, previous = windows.get(params["slot"], 0), windows.get(params["slot"] - 1, 0)
        room = params["limit"] - params["cost"]
        if current <= room:
            # The previous window's weight must fall to room - current.
            needed = 1.0 - (room - current) / previous if previous else 0.0
            return round(max(needed - elapsed, 0.0) * period, 3)
        # Wait for the next window, where this one's count becomes the weighted one.
        needed = 1.0 - room / current
        return round((1.0 - elapsed + max(needed, 0.0)) * period, 3)


class ApiKeyItemsThrottle(ApiKeyThrottle):
    """The batch's throttle: each user in ``{"users": [...]}`` counts as one request, in the
    same count as the single calls. A batch larger than the whole limit is never allowed:
    send smaller ones."""

    def cost(self, request: HttpRequest) -> int:
        try:
            users = json.loads(request.body).get("users")
        except (ValueError, AttributeError):
            return 1  # the body's own error is answered after the throttle
        return max(1, len(users)) if isinstance(users, list) else 1

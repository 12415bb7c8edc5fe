"""Guards of the public API: API keys, per-key rate limits and ``Idempotency-Key`` replays.

Everything here is kept in the database (``ApiKey``, ``ApiRateLimitWindow``,
``ApiIdempotencyRecord``) so that any number of web processes on any number of machines
agree on it; nothing lives in process memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contacts.models import ApiIdempotencyRecord, ApiKey, ApiRateLimitWindow

KEY_PREFIX = "chk_"
PREFIX_LENGTH = 12  # stored in clear (ApiKey.prefix) to find the key and to show it in lists
MAX_KEY_LENGTH = 200
# ``last_used_at`` is written at most this often per key, so that a busy integration does not
# turn every request into an extra write.
LAST_USED_RESOLUTION = timedelta(seconds=60)
DEFAULT_RATE_LIMIT = "600/60"
IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY_LENGTH = 255
RATE_LIMIT_MESSAGE = "Rate limit exceeded for this resource"


class ApiError(Exception):
    """An answer other than success, rendered as ``{"code", "message", "field"}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"result": False, "code": self.code, "message": self.message, "field": self.field}


# --- Keys -----------------------------------------------------------------------------------
def generate_key() -> str:
    """A new secret: 256 random bits after a recognisable prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw_key: str) -> str:
    # A fast hash is right here: keys are 256 random bits, so there is nothing to brute-force,
    # and every request checks one. (Passwords need slow hashes because people choose them.)
    return hashlib.sha256(raw_key.encode()).hexdigest()


def key_from_authorization(header: str | None) -> str | None:
    """The API key in ``Authorization: Basic <key>``.

    The key may also come as HTTP Basic credentials, ``base64("<key>:")`` (what ``curl -u KEY:``
    sends and what Interakt's dashboard shows as the secret key), so both kinds of client work.
    """
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token or len(token) > 2 * MAX_KEY_LENGTH:
        return None
    if token.startswith(KEY_PREFIX):
        return token
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, ValueError):
        return None
    user, _, password = decoded.partition(":")
    for candidate in (user, password):
        if candidate.startswith(KEY_PREFIX):
            return candidate
    return None


def api_key_authenticate(raw_key: str | None) -> ApiKey:
    """The active key whose secret is ``raw_key``; :class:`ApiError` 401 otherwise."""
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        raise ApiError(
            401,
            "unauthorized",
            'Send your API key as "Authorization: Basic <API key>"',
            "Authorization",
        )
    digest = hash_key(raw_key)
    match = None
    for candidate in ApiKey.objects.filter(prefix=raw_key[:PREFIX_LENGTH]):
        # Constant-time comparison: response time says nothing about how much of it matched.
        if hmac.compare_digest(candidate.secret_hash, digest):
            match = candidate
    if match is None:
        raise ApiError(401, "unauthorized", "The API key is not valid", "Authorization")
    if match.revoked_at is not None:
        raise ApiError(401, "unauthorized", "The API key was revoked", "Authorization")
    now = timezone.now()
    if match.last_used_at is None or now - match.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=match.pk).update(last_used_at=now)
        match.last_used_at = now
    return match


# --- Rate limits ----------------------------------------------------------------------------
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


def rate_limit_check(api_key: ApiKey) -> None:
    """Count this request in the key's current window; :class:`ApiError` 429 when over.

    One ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` per request (SQLite and PostgreSQL),
    so concurrent requests in several processes are all counted.
    """
    limit = rate_limit_setting()
    if limit is None:
        return
    allowed, seconds = limit
    now = time.time()
    start = int(now // seconds * seconds)
    window_start = datetime.fromtimestamp(start, UTC)
    table = connection.ops.quote_name(ApiRateLimitWindow._meta.db_table)
    count_column = connection.ops.quote_name("count")
    head, rows = "", "VALUES (%s, %s, 1)"
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # One statement, one transaction whose commit does not wait for the disk: a count lost
        # in a crash is harmless, an fsync on every request is not. (set_config(..., true)
        # lasts until this statement's own commit; outside autocommit it would outlive it.)
        head = "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
        rows = "SELECT %s, %s, 1 FROM relaxed"
    sql = (
        f"{head}INSERT INTO {table} (api_key_id, window_start, {count_column}) {rows} "
        f"ON CONFLICT (api_key_id, window_start) DO UPDATE "
        f"SET {count_column} = {table}.{count_column} + 1 RETURNING {count_column}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [api_key.pk, connection.ops.adapt_datetimefield_value(window_start)])
        (count,) = cursor.fetchone()
    if count == 1:
        # First request of a new window: forget this key's older windows.
        ApiRateLimitWindow.objects.filter(api_key=api_key, window_start__lt=window_start).delete()
    if count > allowed:
        retry_after = max(1, math.ceil(start + seconds - now))
        raise ApiError(
            429, "rate_limited", RATE_LIMIT_MESSAGE, headers={"Retry-After": str(retry_after)}
        )


# --- Idempotency ----------------------------------------------------------------------------
def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(record: ApiIdempotencyRecord, fingerprint: str) -> tuple[int, dict[str, Any], bool]:
    if not hmac.compare_digest(record.request_hash, fingerprint):
        raise ApiError(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request",
            "Idempotency-Key",
        )
    return record.status_code, record.response_body, True


def idempotent(
    *,
    api_key: ApiKey,
    key: str | None,
    fingerprint: str,
    produce: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """Run ``produce`` once per ``(api_key, key)``; returns (status, body, replayed).

    Without a key, ``produce`` simply runs. With one, the first answer is stored in the same
    transaction as the work it describes, so a retry either finds the stored answer or finds
    nothing done. A concurrent retry waits on the unique index (PostgreSQL) or the write lock
    (SQLite) and then replays the stored answer.
    """
    if key is None:
        status, body = produce()
        return status, body, False
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or "\x00" in key:
        raise ApiError(
            422,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
            "Idempotency-Key",
        )
    stale = timezone.now() - IDEMPOTENCY_TTL
    existing = ApiIdempotencyRecord.objects.filter(
        api_key=api_key, key=key, created_at__gte=stale
    ).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            ApiIdempotencyRecord.objects.filter(api_key=api_key, created_at__lt=stale).delete()
            record = ApiIdempotencyRecord.objects.create(
                api_key=api_key,
                key=key,
                request_hash=fingerprint,
                status_code=0,
                response_body={},
            )
            status, body = produce()
            record.status_code, record.response_body = status, body
            record.save(update_fields=["status_code", "response_body"])
    except IntegrityError:
        existing = ApiIdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if existing is None or existing.status_code == 0:
            raise
        return _replay(existing, fingerprint)
    return status, body, False

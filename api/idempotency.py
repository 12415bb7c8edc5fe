"""``Idempotency-Key``: a retried request gets the first answer, and nothing is done twice.

Answers are kept in the database (``ApiIdempotencyRecord``) so that every web process agrees.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.errors import ApiError
from contacts.models import ApiIdempotencyRecord, ApiKey

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY_LENGTH = 255


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

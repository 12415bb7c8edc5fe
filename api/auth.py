"""Who is calling: ``Authorization: Basic <API key>``, checked before anything else runs.

The checks of the request itself that must come before its body is parsed (size, media type)
run here too, so that a refused request costs no parsing.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security.http import HttpAuthBase

from api.errors import ApiError
from contacts.api_keys import KEY_PREFIX, PREFIX_LENGTH, hash_key
from contacts.models import ApiKey

MAX_KEY_LENGTH = 200
MAX_BODY_BYTES = 1024 * 1024
# ``last_used_at`` is written at most this often per key, so that a busy integration does not
# turn every request into an extra write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


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


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def check_request_body(request: HttpRequest) -> None:
    """Refuse a body over :data:`MAX_BODY_BYTES` (413) or not labelled as JSON (415)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise ApiError(
            413, "body_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes"
        )
    # A JSON body sent as text/plain or a form would otherwise be parsed as if it were JSON,
    # hiding a client bug that a stricter server (Interakt's) reports.
    if length and not _is_json(request.content_type or ""):
        raise ApiError(
            415,
            "unsupported_media_type",
            f'Content-Type: send the body as JSON with "Content-Type: application/json", '
            f'not "{request.content_type or "nothing"}"',
            "Content-Type",
        )


class ApiKeyAuth(HttpAuthBase):
    """``Authorization: Basic <API key>``; the request's body is checked before it is read."""

    openapi_scheme = "basic"

    def __call__(self, request: HttpRequest) -> ApiKey:
        api_key = api_key_authenticate(key_from_authorization(request.headers.get("Authorization")))
        check_request_body(request)
        return api_key

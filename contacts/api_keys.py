"""Creating and revoking keys for the public API (the web page, the admin and the command)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from contacts.models import ApiKey
from contacts.services import ContactInputError, FieldError

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

MAX_NAME_LENGTH = ApiKey._meta.get_field("name").max_length
KEY_PREFIX = "chk_"
PREFIX_LENGTH = 12  # stored in clear (ApiKey.prefix) to find the key and to show it in lists


def generate_key() -> str:
    """A new secret: 256 random bits after a recognisable prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw_key: str) -> str:
    # A fast hash is right here: keys are 256 random bits, so there is nothing to brute-force,
    # and every request checks one. (Passwords need slow hashes because people choose them.)
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApiKey:
    api_key: ApiKey
    secret: str  # shown to the person who created it, once; only its hash is stored


def api_key_create(*, name: str, created_by: AbstractBaseUser | None = None) -> NewApiKey:
    """Create a named key and return it with its secret (which is never stored)."""
    name = " ".join((name or "").split())
    if not name:
        raise ContactInputError([FieldError("name", "Name", "is required")])
    if len(name) > MAX_NAME_LENGTH:
        raise ContactInputError(
            [FieldError("name", "Name", f"is longer than {MAX_NAME_LENGTH} characters")]
        )
    secret = generate_key()
    user = created_by if created_by is not None and created_by.is_authenticated else None
    api_key = ApiKey.objects.create(
        name=name, prefix=secret[:PREFIX_LENGTH], secret_hash=hash_key(secret), created_by=user
    )
    return NewApiKey(api_key=api_key, secret=secret)


def api_key_revoke(*, api_key_id: int) -> ApiKey:
    """Revoke a key: every request with it is refused from now on. Revoking twice is a no-op."""
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
    return api_key

"""The Track API's rules for one user, shared by the single call and the batch.

A payload is checked here (storable values, identity, the limit on new traits) in the
same order for both, so that an item of a batch is refused with exactly the body the single
call would answer; the contacts services do the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from api.customers import utc_timestamp
from api.errors import ApiError, invalid, validation_refusal
from api.limits import MAX_USER_ID_LENGTH, check_new_traits, check_storable
from api.schemas import IdentityIn, TrackUserIn
from contacts.fields import FieldRegistry
from contacts.phones import PhoneError, normalize_phone
from contacts.services import IMPORT_CREATED, IMPORT_UNCHANGED, TrackItem

MESSAGES = {"created": "User created", "updated": "User updated", "unchanged": "Nothing to change"}


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str | None
    phone: str | None
    country_code: str | None


def identity_of(payload: IdentityIn) -> Identity:
    """userId, phoneNumber and countryCode as sent, with the rules only the API has.

    A phone without a country code must be written in international form: the default region
    (``CONTACTHUB_DEFAULT_REGION``) is for people typing into the app's forms and files, and an
    integration silently getting it would store a wrong number for every foreign customer.
    """
    user_id = None if payload.userId is None else str(payload.userId).strip() or None
    if user_id is not None and len(user_id) > MAX_USER_ID_LENGTH:
        raise invalid("userId", f"is longer than {MAX_USER_ID_LENGTH} characters")
    phone = None if payload.phoneNumber is None else str(payload.phoneNumber).strip() or None
    code = None if payload.countryCode is None else str(payload.countryCode).strip() or None
    if user_id is None and phone is None and code is None:
        raise invalid("userId", "userId or phoneNumber with countryCode is required")
    if phone is not None and code is None and not phone.lstrip("'").startswith(("+", "00")):
        _check_is_phone(phone)
        raise invalid("countryCode", 'is required unless phoneNumber starts with "+"')
    return Identity(user_id, phone, code)


def _check_is_phone(phone: str) -> None:
    """Name phoneNumber, not the missing countryCode, when the value is no phone number at all."""
    try:
        normalize_phone(phone)
    except PhoneError as exc:
        raise ApiError(422, "validation_error", f"phoneNumber: {exc}", "phoneNumber") from None


def track_item(payload: TrackUserIn) -> TrackItem:
    """A parsed payload checked for what needs no database (storable values, identity)."""
    check_storable(payload)
    identity = identity_of(payload)
    return TrackItem(
        user_id=identity.user_id,
        phone_number=identity.phone,
        country_code=identity.country_code,
        values=payload.traits or {},
        tags=payload.tags or [],
    )


def track_item_from_json(raw: Any) -> TrackItem:
    """A batch's item, parsed as the single call parses its body."""
    try:
        payload = TrackUserIn.model_validate(raw)
    except ValidationError as exc:
        raise validation_refusal(exc.errors(), ("body", "payload")) from None
    return track_item(payload)


def sent_trait_names(traits: Mapping[str, Any], registry: FieldRegistry) -> dict[str, str]:
    """The key each trait resolves to -> the name it was sent as (to name it back in errors);
    refuses a payload creating more custom fields than allowed."""
    sent: dict[str, str] = {}
    new_names: list[str] = []
    for name in traits:
        target = registry.resolve(name)
        if target is None:
            new_names.append(name)
        sent[target.key if target else name] = name
    check_new_traits(new_names, len(registry.custom))
    return sent


@dataclass(frozen=True, slots=True)
class OptInState:
    """WhatsApp opted as a call leaves it, and whether the call set or cleared it."""

    whatsapp_opted: bool
    opted_at: datetime | None
    source: str
    changed: bool


def track_answer(
    outcome: str, *, contact_id: int, user_id: str | None, phone: str | None, opt_in: OptInState
) -> dict[str, Any]:
    """The single call's success body for an outcome (created, updated or unchanged)."""
    return {
        "result": True,
        "message": MESSAGES[outcome],
        "data": {
            "id": contact_id,
            "userId": user_id,
            "phoneNumber": phone,
            "created": outcome == IMPORT_CREATED,
            "changed": outcome != IMPORT_UNCHANGED,
            "whatsappOpted": opt_in.whatsapp_opted,
            "optedInAt": None if opt_in.opted_at is None else utc_timestamp(opt_in.opted_at),
            "optInSource": opt_in.source,
            "optInChanged": opt_in.changed,
        },
    }


def batch_summary(results: Sequence[Mapping[str, Any]]) -> str:
    counts = {status: 0 for status in (*MESSAGES, "refused")}
    for result in results:
        counts[result["status"]] += 1
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def opt_in_changed_count(results: Sequence[Mapping[str, Any]]) -> int:
    """How many of a batch's users set or cleared WhatsApp opted (an upload's count too)."""
    return sum(1 for result in results if (result.get("data") or {}).get("optInChanged"))

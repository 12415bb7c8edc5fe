"""What one API call may send, checked at the edge before any service runs.

Every limit here is documented in docs/api.md ("Limits"). A call over one is refused whole
(4xx naming the field and the limit); nothing of it is applied.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Schema
from ninja.parser import Parser

from api.errors import ApiError, invalid
from contacts.models import Attribute, Contact

MAX_PAGE_SIZE = 100
MAX_OFFSET = 10**9
MAX_FILTERS_PER_CALL = 100
MAX_TAGS_PER_CALL = 100
MAX_USERS_PER_BATCH = 1000
MAX_NEW_TRAITS_PER_CALL = 100
DEFAULT_MAX_CUSTOM_FIELDS = 1000
MAX_TRAIT_NAME_LENGTH = Attribute._meta.get_field("label").max_length
MAX_USER_ID_LENGTH = Contact._meta.get_field("user_id").max_length
MAX_EVENT_NAME_LENGTH = 255
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits() or 4300


def max_custom_fields() -> int:
    """``CONTACTHUB_MAX_CUSTOM_FIELDS``: how many custom fields the API may grow the book to."""
    return int(getattr(settings, "CONTACTHUB_MAX_CUSTOM_FIELDS", DEFAULT_MAX_CUSTOM_FIELDS))


def _unstorable(value: Any, where: str) -> tuple[str, str] | None:
    """(path, problem) of the first value the database cannot store, if any.

    NUL and lone surrogates are refused by PostgreSQL's text and JSON; NaN and infinity
    (``1e309`` parses as infinity) are not JSON at all, and both databases' JSON checks fail.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return where, "contains characters that cannot be stored"
        try:
            value.encode()
        except UnicodeEncodeError:
            return where, "contains characters that cannot be stored"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return where, "is not a finite number (NaN and numbers beyond 1e308 cannot be stored)"
    if isinstance(value, dict):
        for key, item in value.items():
            if (found := _unstorable(key, where)) or (found := _unstorable(item, f"{where}.{key}")):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _unstorable(item, f"{where}.{index}"):
                return found
    return None


def check_storable(payload: Schema) -> None:
    """422 naming the first value of ``payload`` the database could not store."""
    for name, value in payload.model_dump().items():
        if found := _unstorable(value, name):
            raise invalid(*found)


def check_new_traits(new_names: Iterable[str], custom_field_count: int) -> None:
    """Refuse a call that would create too many custom fields, at once or in total."""
    new = list(new_names)
    for name in new:
        if len(name.strip()) > MAX_TRAIT_NAME_LENGTH:
            raise ApiError(
                422,
                "validation_error",
                f"a trait name is longer than {MAX_TRAIT_NAME_LENGTH} characters",
                f"traits.{name[:40]}",
            )
    if len(new) > MAX_NEW_TRAITS_PER_CALL:
        raise ApiError(
            422,
            "too_many_new_traits",
            f"traits: at most {MAX_NEW_TRAITS_PER_CALL} new trait names per call "
            f"({len(new)} sent); send them in several calls",
            "traits",
        )
    cap = max_custom_fields()
    if new and custom_field_count + len(new) > cap:
        raise ApiError(
            422,
            "too_many_custom_fields",
            f"traits: the contact book holds at most {cap} custom fields "
            f"({custom_field_count} exist, {len(new)} new sent)",
            "traits",
        )


class LongNumberParser(Parser):
    """JSON bodies whose integers of any length parse: Python's ``int()`` refuses more than
    4,300 digits, which would turn a valid body into "not valid JSON". Such a number is read
    as the float it overflows to, and ``check_storable`` names it as too large."""

    def parse_body(self, request: HttpRequest) -> Any:
        return json.loads(request.body, parse_int=_integer)


def _integer(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else float(text)

"""The API's one error shape, and the one place its field names meet the contacts' keys.

Services and selectors name fields by their canonical keys (``user_id``, ``phone_number``,
``country_code``); callers of the API wrote ``userId``, ``phoneNumber``, ``countryCode``.
:data:`API_FIELD_NAMES` translates at this edge and nowhere else.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, Throttled, ValidationError

from contacts.fields import TAGS
from contacts.services import ContactConflict, DuplicateContact, ServiceError

logger = logging.getLogger(__name__)

RATE_LIMIT_MESSAGE = "Rate limit exceeded for this resource"

# Canonical field key -> the name the API's callers use for it.
API_FIELD_NAMES = {
    "user_id": "userId",
    "phone_number": "phoneNumber",
    "phone": "phoneNumber",
    "country_code": "countryCode",
    TAGS: "tags",
}


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


def invalid(field: str | None, problem: str) -> ApiError:
    """422 for a value the caller sent, worded ``"<field>: <problem>"``."""
    message = f"{field}: {problem}" if field else problem
    return ApiError(422, "validation_error", message, field)


def api_field_name(key: str | None, sent_traits: dict[str, str] | None = None) -> str | None:
    """The API's name for a canonical field key; a trait as ``traits.<the name it was sent as>``."""
    if key is None:
        return None
    if sent_traits and key in sent_traits:
        return f"traits.{sent_traits[key]}"
    return API_FIELD_NAMES.get(key, key)


def from_service_error(exc: ServiceError, sent_traits: dict[str, str] | None = None) -> ApiError:
    """A refused write as 409 (conflict) or 422 (a value), naming the field as it was sent."""
    field = api_field_name(exc.field, sent_traits)
    if isinstance(exc, (ContactConflict, DuplicateContact)):
        return ApiError(409, exc.code, exc.message, field)
    return ApiError(422, "validation_error", exc.message, field)


def error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


# Union members name themselves in pydantic's error locations ("userId.str"): dropped.
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "any"})


def validation_refusal(
    errors: Sequence[Mapping[str, Any]], prefix: tuple[str, ...] = ()
) -> ApiError:
    """422 naming the first of pydantic's ``errors`` (their locations after ``prefix``)."""
    first = errors[0] if errors else {}
    loc = [*prefix, *(str(part) for part in first.get("loc", ()))]
    # ("body", "payload", "traits", "x") -> "traits.x"; ("query", "limit") -> "limit"
    parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
    parts = [p for p in parts if p not in _TYPE_TAGS and "[" not in p]
    field = ".".join(parts) or None
    problem = first.get("msg", "is not valid")
    message = f"{field}: {problem}" if field else f"The request body: {problem}"
    return ApiError(422, "validation_error", message, field)


def _on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(validation_refusal(exc.errors))


def _on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    retry_after = max(1, math.ceil(exc.wait)) if exc.wait is not None else 1
    return error_response(
        ApiError(429, "rate_limited", RATE_LIMIT_MESSAGE, headers={"Retry-After": str(retry_after)})
    )


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        error = ApiError(400, "malformed_json", "The request body is not valid JSON")
    elif exc.status_code == 401:
        error = ApiError(401, "unauthorized", "An API key is required", "Authorization")
    else:
        error = ApiError(exc.status_code, "error", str(exc))
    return error_response(error)


def _on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(ApiError(404, "not_found", "Not found"))


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("public API request failed: %s %s", request.method, request.path)
    return JsonResponse(
        {"result": False, "code": "server_error", "message": "Internal error", "field": None},
        status=500,
    )


def install_exception_handlers(api: NinjaAPI) -> None:
    api.add_exception_handler(ApiError, lambda request, exc: error_response(exc))
    api.add_exception_handler(ValidationError, _on_validation_error)
    api.add_exception_handler(Throttled, _on_throttled)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(Http404, _on_not_found)
    api.add_exception_handler(Exception, _on_unexpected)

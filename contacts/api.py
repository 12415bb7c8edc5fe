"""The public JSON API, compatible with Interakt's Track and Get Users APIs.

Mounted at ``/v1/public/`` (``contacthub/urls.py`` includes this module), so an integration
written for Interakt works by changing only the base URL and the key:

- ``POST /v1/public/track/users/``: create or update a contact (DESIGN.md rules 2-6, through
  ``services.contact_upsert``).
- ``POST /v1/public/track/events/``: record a named event on a contact's timeline.
- ``POST /v1/public/apis/users/?offset=0&limit=100``: retrieve contacts with filters.
- ``GET /v1/public/ping/``: check a key (and the cheapest authenticated request, for benchmarks).
- ``GET /v1/public/openapi.json`` and ``GET /v1/public/docs/``: the schema and its docs page.

Authentication is ``Authorization: Basic <API key>`` only: session cookies are ignored, which
is also why the API, and only the API, is exempt from CSRF checks. Every error has one shape,
``{"result": false, "code", "message", "field"}``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, re_path, reverse
from django.views.decorators.http import require_GET
from ninja import Header, NinjaAPI, Query, Schema
from ninja.errors import HttpError, ValidationError
from ninja.security.http import HttpAuthBase
from pydantic import ConfigDict, Field, StrictInt, StrictStr

from contacts import services
from contacts.api_auth import (
    ApiError,
    api_key_authenticate,
    idempotent,
    key_from_authorization,
    rate_limit_check,
    request_fingerprint,
)
from contacts.fields import TAGS, FieldRegistry, field_registry
from contacts.fields import Field as ContactField
from contacts.filters import Filter, FilterError, build_filter, operator_for, operators_for
from contacts.models import ApiKey, Attribute, Contact, FieldType, Tag
from contacts.phones import PhoneError, normalize_phone
from contacts.services import Actor, ContactConflict, DuplicateContact, ServiceError

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_PAGE_SIZE = 100
MAX_OFFSET = 10**9
MAX_TRAIT_NAME_LENGTH = Attribute._meta.get_field("label").max_length
MAX_USER_ID_LENGTH = Contact._meta.get_field("user_id").max_length
MAX_EVENT_NAME_LENGTH = 255
ERROR_STATUSES = frozenset({400, 401, 404, 409, 413, 422, 429})

# The seed examples of the docs (and of the OpenAPI schema): one contact, created and updated.
SEED_EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (
        "Create Gavin Roberts",
        {
            "userId": "gavin-roberts",
            "phoneNumber": "9967536783",
            "countryCode": "+91",
            "traits": {
                "name": "Gavin Roberts",
                "email": "gavinroberts@gmail.com",
                "dob": "1998-01-01",
                "Sample trait a": "First value",
            },
        },
    ),
    (
        "Change his date of birth (other traits are left alone)",
        {"phoneNumber": "9967536783", "countryCode": "+91", "traits": {"dob": "1997-12-01"}},
    ),
    (
        "Add a trait",
        {"phoneNumber": "9967536783", "countryCode": "+91", "traits": {"Pin code": "400001"}},
    ),
    (
        "Add tags (sending them again adds nothing)",
        {
            "phoneNumber": "9967536783",
            "countryCode": "+91",
            "tags": ["new customer", "potential lead"],
        },
    ),
]
EVENT_EXAMPLE = {
    "phoneNumber": "9967536783",
    "countryCode": "+91",
    "event": "Order placed",
    "traits": {"Order number": "A-1001", "Amount": 2499},
}
USERS_EXAMPLE = {
    "filters": [{"trait": "created_at_utc", "op": "gt", "val": "2021-09-08T11:30:00Z"}],
}


# --- Schemas --------------------------------------------------------------------------------
class ErrorOut(Schema):
    result: bool = False
    code: str = Field(description="A stable machine-readable reason, e.g. validation_error.")
    message: str = Field(description="What went wrong, for people.")
    field: str | None = Field(None, description="The input at fault, when there is one.")


class TrackUserIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [e for _, e in SEED_EXAMPLES]})

    userId: StrictStr | StrictInt | None = Field(
        None, description="Your id for this person; matched first when given."
    )
    phoneNumber: StrictStr | StrictInt | None = Field(
        None, description='National digits with countryCode, or a full "+<code><number>".'
    )
    countryCode: StrictStr | StrictInt | None = Field(None, description='e.g. "+91" or "91".')
    traits: dict[str, Any] | None = Field(
        None,
        description=(
            "Fields to set, by name (built-in name, email, whatsapp_opted, or any custom "
            "trait); null clears one, names not sent are left alone. A trait seen for the "
            "first time creates a field whose type is inferred from the value."
        ),
    )
    tags: list[StrictStr] | None = Field(
        None, description="Tags to add (add-only, case-insensitive)."
    )


class TrackedContactOut(Schema):
    id: int
    userId: str | None
    phoneNumber: str | None = Field(description="E.164")
    created: bool
    changed: bool


class TrackUserOut(Schema):
    result: bool
    message: str
    data: TrackedContactOut


class TrackEventIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

    userId: StrictStr | StrictInt | None = None
    phoneNumber: StrictStr | StrictInt | None = None
    countryCode: StrictStr | StrictInt | None = None
    event: StrictStr = Field(description="The event's name, e.g. Order placed.")
    traits: dict[str, Any] | None = Field(None, description="The event's own properties.")


class EventDataOut(Schema):
    id: int
    contactId: int
    event: str


class TrackEventOut(Schema):
    result: bool
    message: str
    data: EventDataOut


class FilterIn(Schema):
    trait: StrictStr = Field(
        description="A field's key, label or alias; also created_at_utc and modified_at_utc."
    )
    op: StrictStr = Field(description="An operator of the field's type, e.g. eq, gt, contains.")
    val: StrictStr | StrictInt | float | bool | list[StrictStr | StrictInt | float] | None = Field(
        None, description="The value; a list of two for between, a list of names for tags."
    )


class UsersQueryIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [USERS_EXAMPLE]})

    filters: list[FilterIn] = Field(default_factory=list)
    supr_op: Literal["and", "or"] = Field("and", description="How filters combine.")


class CustomerOut(Schema):
    id: int
    user_id: str | None
    phone_number: str = Field(description="National digits.")
    country_code: str = Field(description='e.g. "+91"; empty without a phone.')
    phone: str | None = Field(description="E.164")
    created_at_utc: str
    modified_at_utc: str
    traits: dict[str, Any] = Field(description="name, email, whatsapp_opted and custom traits.")
    tags: list[str]


class UsersDataOut(Schema):
    total_customers: int
    customers: list[CustomerOut]
    has_next_page: bool


class UsersOut(Schema):
    result: bool
    message: str
    data: UsersDataOut


class PingDataOut(Schema):
    key: str


class PingOut(Schema):
    result: bool
    message: str
    data: PingDataOut


# --- Authentication -------------------------------------------------------------------------
class ApiKeyAuth(HttpAuthBase):
    """``Authorization: Basic <API key>``; also counts the request against the key's limit."""

    openapi_scheme = "basic"

    def __call__(self, request: HttpRequest) -> ApiKey:
        api_key = api_key_authenticate(key_from_authorization(request.headers.get("Authorization")))
        rate_limit_check(api_key)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise ApiError(
                413, "body_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes"
            )
        return api_key


api = NinjaAPI(
    title="Contact Hub public API",
    version="1",
    description=(
        "Interakt-compatible Track and Get Users APIs. Authenticate with "
        '"Authorization: Basic <API key>" (keys are made by Managers under Settings > API keys).'
    ),
    urls_namespace="public_api",
    openapi_url="/openapi.json",
    docs_url=None,
    auth=ApiKeyAuth(),
)


# --- Errors ---------------------------------------------------------------------------------
def _error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


@api.exception_handler(ApiError)
def _on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _error_response(exc)


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "any"})


@api.exception_handler(ValidationError)
def _on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in first.get("loc", ())]
    # ("body", "payload", "traits", "x") -> "traits.x"; ("query", "limit") -> "limit"
    parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
    # Union members name themselves in the location ("userId.str"): keep the field's path only.
    parts = [p for p in parts if p not in _TYPE_TAGS and "[" not in p]
    field = ".".join(parts) or None
    problem = first.get("msg", "is not valid")
    message = f"{field}: {problem}" if field else f"The request body: {problem}"
    return _error_response(ApiError(422, "validation_error", message, field))


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        error = ApiError(400, "malformed_json", "The request body is not valid JSON")
    elif exc.status_code == 401:
        error = ApiError(401, "unauthorized", "An API key is required", "Authorization")
    else:
        error = ApiError(exc.status_code, "error", str(exc))
    return _error_response(error)


@api.exception_handler(Http404)
def _on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error_response(ApiError(404, "not_found", "Not found"))


@api.exception_handler(Exception)
def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("public API request failed: %s %s", request.method, request.path)
    return JsonResponse(
        {"result": False, "code": "server_error", "message": "Internal error", "field": None},
        status=500,
    )


def _bad_text_path(value: Any, where: str) -> str | None:
    """The path of a string the database cannot store (NUL, lone surrogates), if any."""
    if isinstance(value, str):
        if "\x00" in value:
            return where
        try:
            value.encode()
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if (found := _bad_text_path(key, where)) or (
                found := _bad_text_path(item, f"{where}.{key}")
            ):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _bad_text_path(item, f"{where}.{index}"):
                return found
    return None


def _check_text(payload: Schema) -> None:
    for name, value in payload.model_dump().items():
        if where := _bad_text_path(value, name):
            raise ApiError(
                422,
                "validation_error",
                f"{where}: contains characters that cannot be stored",
                where,
            )


def _identity(payload: TrackUserIn | TrackEventIn) -> tuple[str | None, str | None, str | None]:
    user_id = None if payload.userId is None else str(payload.userId).strip() or None
    if user_id is not None and len(user_id) > MAX_USER_ID_LENGTH:
        raise ApiError(
            422,
            "validation_error",
            f"userId: is longer than {MAX_USER_ID_LENGTH} characters",
            "userId",
        )
    phone = None if payload.phoneNumber is None else str(payload.phoneNumber)
    code = None if payload.countryCode is None else str(payload.countryCode)
    return user_id, phone, code


_API_NAMES = {
    "phone_number": "phoneNumber",
    "phone": "phoneNumber",
    "country_code": "countryCode",
    "user_id": "userId",
}


def _from_service_error(exc: ServiceError, sent: dict[str, str]) -> ApiError:
    """Map a refused write to 409 (conflict) or 422 (a value), naming the field as sent."""
    field = exc.field
    if field in sent:
        field = f"traits.{sent[field]}"
    elif field == TAGS:
        field = "tags"
    else:
        field = _API_NAMES.get(field or "", field)
    status = 409 if isinstance(exc, (ContactConflict, DuplicateContact)) else 422
    code = exc.code if status == 409 else "validation_error"
    return ApiError(status, code, exc.message, field)


def _answer(
    request: HttpRequest, idempotency_key: str | None, produce: Callable[[], dict[str, Any]]
) -> HttpResponse:
    """Run ``produce`` (once per Idempotency-Key) and render its answer or refusal."""

    def guarded() -> tuple[int, dict[str, Any]]:
        try:
            return 200, produce()
        except ApiError as error:
            return error.status, error.body()

    status, body, replayed = idempotent(
        api_key=request.auth,
        key=idempotency_key,
        fingerprint=request_fingerprint(request.method, request.get_full_path(), request.body),
        produce=guarded,
    )
    response = JsonResponse(body, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


ERROR_RESPONSES = {ERROR_STATUSES: ErrorOut}
IDEMPOTENCY_HEADER = Header(
    None,
    alias="Idempotency-Key",
    description="Retrying with the same key returns the first answer without applying twice.",
    max_length=255,
)


# --- Track users ----------------------------------------------------------------------------
@api.post(
    "/track/users/",
    response={200: TrackUserOut, **ERROR_RESPONSES},
    summary="Create or update a user",
    description=(
        "Matches by userId when known, else by phone. Traits named are set, traits not named "
        "are left alone, null clears one. Tags are added, never removed. The same payload "
        "twice changes nothing the second time. A value that does not fit a field's type is "
        "refused (422) naming the field, and nothing of the request is applied; a userId and "
        "phone that belong to two different contacts are a conflict (409)."
    ),
    operation_id="track_user",
)
def track_user(
    request: HttpRequest, payload: TrackUserIn, idempotency_key: str | None = IDEMPOTENCY_HEADER
) -> HttpResponse:
    def produce() -> dict[str, Any]:
        _check_text(payload)
        user_id, phone, code = _identity(payload)
        traits = payload.traits or {}
        registry = field_registry()
        sent: dict[str, str] = {}
        for name in traits:
            target = registry.resolve(name)
            if target is None and len(name.strip()) > MAX_TRAIT_NAME_LENGTH:
                raise ApiError(
                    422,
                    "validation_error",
                    f"a trait name is longer than {MAX_TRAIT_NAME_LENGTH} characters",
                    f"traits.{name[:40]}",
                )
            sent[target.key if target else name] = name
        try:
            result = services.contact_upsert(
                actor=Actor.api(request.auth),
                user_id=user_id,
                phone_number=phone,
                country_code=code,
                values=traits,
                tags=payload.tags or [],
                create_attributes=True,
                registry=registry,
            )
        except ServiceError as exc:
            raise _from_service_error(exc, sent) from None
        except IntegrityError:
            raise ApiError(
                409,
                "conflict",
                "Another request changed this contact at the same moment; send it again",
            ) from None
        contact = result.contact
        if result.created:
            message = "User created"
        elif result.changed:
            message = "User updated"
        else:
            message = "Nothing to change"
        return {
            "result": True,
            "message": message,
            "data": {
                "id": contact.pk,
                "userId": contact.user_id,
                "phoneNumber": contact.phone,
                "created": result.created,
                "changed": result.changed,
            },
        }

    return _answer(request, idempotency_key, produce)


# --- Track events ---------------------------------------------------------------------------
def _contact_for(user_id: str | None, phone: str | None, code: str | None) -> Contact:
    """The contact an event is about: by userId when known, else by phone."""
    e164 = None
    if phone is not None and phone.strip():
        try:
            e164 = normalize_phone(phone, code).e164
        except PhoneError as exc:
            field = "countryCode" if exc.field == "country_code" else "phoneNumber"
            raise ApiError(422, "validation_error", str(exc), field) from None
    if user_id is None and e164 is None:
        raise ApiError(
            422, "validation_error", "userId or phoneNumber with countryCode is required", "userId"
        )
    by_user = Contact.objects.filter(user_id=user_id).first() if user_id else None
    by_phone = Contact.objects.filter(phone=e164).first() if e164 else None
    if by_user and by_phone and by_user.pk != by_phone.pk:
        raise ApiError(
            409,
            "conflict",
            f'user id "{user_id}" belongs to one contact and phone {e164} to another',
            "userId",
        )
    contact = by_user or by_phone
    if contact is None:
        who = " and ".join(
            part
            for part in (f'user id "{user_id}"' if user_id else "", f"phone {e164}" if e164 else "")
            if part
        )
        raise ApiError(
            404, "not_found", f"No contact with {who}", "userId" if user_id else "phoneNumber"
        )
    return contact


@api.post(
    "/track/events/",
    response={200: TrackEventOut, **ERROR_RESPONSES},
    summary="Record an event for a user",
    description=(
        "Records a named event with its own traits on the contact's timeline. Events never "
        "replace each other. The contact must exist (404 otherwise): send it to "
        "/track/users/ first."
    ),
    operation_id="track_event",
)
def track_event(
    request: HttpRequest, payload: TrackEventIn, idempotency_key: str | None = IDEMPOTENCY_HEADER
) -> HttpResponse:
    def produce() -> dict[str, Any]:
        _check_text(payload)
        event = " ".join(payload.event.split())
        if not event:
            raise ApiError(422, "validation_error", "event: is required", "event")
        if len(event) > MAX_EVENT_NAME_LENGTH:
            raise ApiError(
                422,
                "validation_error",
                f"event: is longer than {MAX_EVENT_NAME_LENGTH} characters",
                "event",
            )
        contact = _contact_for(*_identity(payload))
        try:
            activity = services.contact_event_record(
                actor=Actor.api(request.auth),
                contact_id=contact.pk,
                event=event,
                traits=payload.traits or {},
            )
        except ServiceError as exc:
            raise _from_service_error(exc, {}) from None
        except Contact.DoesNotExist:
            raise ApiError(404, "not_found", "The contact was just deleted", "userId") from None
        return {
            "result": True,
            "message": "Event recorded",
            "data": {"id": activity.pk, "contactId": contact.pk, "event": event},
        }

    return _answer(request, idempotency_key, produce)


# --- Get users ------------------------------------------------------------------------------
TIME_TRAITS = {"created_at_utc": "created_at", "modified_at_utc": "updated_at"}
# Interakt's spellings of the contact list's operators (contacts.filters), by field type.
OPERATOR_ALIASES: dict[str, dict[str, str]] = {
    "*": {"neq": "ne", "is_set": "set", "is_not_set": "unset", "starts_with": "startswith"},
    FieldType.DATETIME: {"gt": "after", "lt": "before", "eq": "on"},
    FieldType.LIST: {"eq": "contains", "ne": "not_contains", "neq": "not_contains"},
    TAGS: {"contains": "any", "eq": "any", "not_contains": "none", "ne": "none", "neq": "none"},
}


def _filter_error(index: int, message: str, part: str = "val") -> ApiError:
    field = f"filters.{index}.{part}"
    return ApiError(422, "invalid_filter", f"filters[{index}]: {message}", field)


def _filter_values(val: Any, index: int) -> list[str]:
    items = val if isinstance(val, list) else [] if val is None else [val]
    values = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            values.append(str(item))
        else:
            raise _filter_error(index, "val must be text, a number, true/false or a list of them")
    return values


def _api_filter(item: FilterIn, index: int, registry: FieldRegistry) -> Filter:
    """One Interakt-style ``{trait, op, val}`` as the contact list's :class:`Filter`."""
    name = item.trait.strip()
    target = registry.get(TIME_TRAITS[name]) if name in TIME_TRAITS else registry.resolve(name)
    if target is None:
        raise _filter_error(index, f'no field called "{item.trait}"', "trait")
    op = item.op.strip().lower()
    op = OPERATOR_ALIASES.get(target.type, {}).get(op, op)
    op = OPERATOR_ALIASES["*"].get(op, op)
    values = _filter_values(item.val, index)
    if target.type == FieldType.BOOLEAN and op in {"eq", "ne"} and len(values) == 1:
        wanted = values[0].strip().lower() in {"true", "1", "yes"}
        op = "true" if wanted == (op == "eq") else "false"
    if operator_for(target, op) is None:
        allowed = ", ".join(o.key for o in operators_for(target))
        raise _filter_error(index, f"op for {target.label} must be one of {allowed}", "op")
    try:
        return build_filter(target, op, values)
    except FilterError as exc:
        raise _filter_error(index, str(exc)) from None


def _filters_q(filters: Iterable[FilterIn], supr_op: str, registry: FieldRegistry) -> Q:
    combined = Q()
    for index, item in enumerate(filters):
        try:
            q = _api_filter(item, index, registry).q()
        except FilterError as exc:
            raise _filter_error(index, str(exc)) from None
        except (OverflowError, ValueError):  # e.g. "in the last 10**12 days"
            raise _filter_error(index, "the value is out of range") from None
        combined = (combined | q) if supr_op == "or" and index else (combined & q)
    return combined


def _utc(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def _customer(contact: Contact, custom: list[ContactField]) -> dict[str, Any]:
    traits: dict[str, Any] = {
        "name": contact.name,
        "email": contact.email,
        "whatsapp_opted": contact.whatsapp_opted,
    }
    for target in custom:
        if target.key in contact.traits:
            traits[target.label] = contact.traits[target.key]
    return {
        "id": contact.pk,
        "user_id": contact.user_id,
        "phone_number": contact.phone_number,
        "country_code": f"+{contact.country_code}" if contact.country_code else "",
        "phone": contact.phone,
        "created_at_utc": _utc(contact.created_at),
        "modified_at_utc": _utc(contact.updated_at),
        "traits": traits,
        "tags": [tag.name for tag in contact.tags.all()],
    }


def contacts_for_api(
    *, filters: Iterable[FilterIn], supr_op: str, registry: FieldRegistry
) -> QuerySet[Contact]:
    tags = Prefetch("tags", queryset=Tag.objects.order_by("name_key"))
    return (
        Contact.objects.filter(_filters_q(filters, supr_op, registry))
        .prefetch_related(tags)
        .order_by("created_at", "id")
    )


@api.post(
    "/apis/users/",
    response={200: UsersOut, **ERROR_RESPONSES},
    summary="Retrieve users",
    description=(
        'Contacts matching all filters (or any, with supr_op "or"), oldest first. Filters '
        "name any field by key, label or alias, plus created_at_utc and modified_at_utc "
        "(ISO 8601, UTC). Operators are the contact list's: text eq, ne, contains, "
        "not_contains, startswith; number eq, ne, gt, gte, lt, lte, between; boolean true, "
        "false; datetime before, after, on, between, last_days, older_days; list contains, "
        "not_contains, empty, not_empty; tags any, all, none; any field set, unset. "
        "Interakt's spellings work too (neq, gt/lt on dates, eq on booleans and tags). "
        "Page with offset and limit (at most 100); has_next_page says whether another page "
        "follows."
    ),
    operation_id="get_users",
)
def get_users(
    request: HttpRequest,
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    payload: UsersQueryIn | None = None,
) -> HttpResponse:
    query = payload or UsersQueryIn()
    _check_text(query)
    registry = field_registry()
    contacts = contacts_for_api(filters=query.filters, supr_op=query.supr_op, registry=registry)
    total = contacts.count()
    page = list(contacts[offset : offset + limit])
    custom = registry.custom
    return JsonResponse(
        {
            "result": True,
            "message": "Customers found" if page else "No customers found",
            "data": {
                "total_customers": total,
                "customers": [_customer(contact, custom) for contact in page],
                "has_next_page": offset + len(page) < total,
            },
        }
    )


# --- Ping -----------------------------------------------------------------------------------
@api.get(
    "/ping/",
    response={200: PingOut, **ERROR_RESPONSES},
    summary="Check an API key",
    description="Answers with the key's name: the cheapest authenticated request.",
    operation_id="ping",
)
def ping(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"result": True, "message": "pong", "data": {"key": request.auth.name}})


# --- Docs page and URLs ---------------------------------------------------------------------
def _curl(base: str, path_: str, body: dict[str, Any]) -> str:
    data = json.dumps(body, indent=2, ensure_ascii=False).replace("'", "'\\''")
    return (
        f"curl -X POST '{base}{path_}' \\\n"
        "  -H 'Authorization: Basic <API key>' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{data}'"
    )


@login_not_required
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """The API's reference, rendered on the server from the OpenAPI schema (works offline)."""
    prefix = reverse("public_api:api-root")
    schema = api.get_openapi_schema(path_prefix=prefix)
    base = request.build_absolute_uri("/").rstrip("/")
    operations = []
    for op_path, methods in schema["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            operations.append(
                {
                    "method": method.upper(),
                    "path": op_path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "body_schema": ref.rsplit("/", 1)[-1] if ref else "",
                    "responses": sorted(operation.get("responses", {}).items()),
                }
            )
    examples = [
        (title, _curl(base, f"{prefix}track/users/", body)) for title, body in SEED_EXAMPLES
    ]
    examples.append(("Record an event", _curl(base, f"{prefix}track/events/", EVENT_EXAMPLE)))
    examples.append(
        (
            "Contacts created after 8 Sep 2021, 5 pm IST",
            _curl(base, f"{prefix}apis/users/?offset=0&limit=100", USERS_EXAMPLE),
        )
    )
    components = {
        name: json.dumps(component, indent=2)
        for name, component in schema.get("components", {}).get("schemas", {}).items()
    }
    context = {
        "title": schema["info"]["title"],
        "description": schema["info"].get("description", ""),
        "operations": operations,
        "examples": examples,
        "components": components,
        "openapi_url": reverse("public_api:openapi-json"),
        "base": base + prefix,
    }
    return render(request, "contacts/api_docs.html", context)


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark an API view login-exempt and give its 405 answers the API's error shape."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            response = _error_response(
                ApiError(405, "method_not_allowed", f"Use {allowed or 'another method'}")
            )
            if allowed:
                response["Allow"] = allowed
        return response

    return login_not_required(wrapper)


@login_not_required
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return _error_response(ApiError(404, "not_found", f"No API endpoint at {request.path}"))


api_not_found.csrf_exempt = True  # type: ignore[attr-defined]


def _urlpatterns() -> list[Any]:
    patterns, _, _ = api.urls
    for pattern in patterns:
        pattern.callback = _json_errors(pattern.callback)
    return [
        path("docs/", api_docs, name="docs"),
        *patterns,
        re_path(r"^.*$", api_not_found, name="not-found"),
    ]


app_name = "public_api"
urlpatterns = _urlpatterns()

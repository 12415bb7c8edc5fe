"""The public API's endpoints, compatible with Interakt's Track and Get Users APIs.

Each one parses its body (api.schemas), checks what only the edge can (api.limits, the
identity rules below), calls a contacts service or selector and answers; a refusal is an
:class:`api.errors.ApiError`, whose field names are the API's (api.errors.API_FIELD_NAMES).

- ``POST /track/users/``: create or update a contact (``services.contact_upsert``).
- ``POST /track/users/batch/``: up to 1,000 of those at once (``services.contacts_track_batch``).
- ``POST /track/events/``: record a named event on a contact's timeline.
- ``POST /apis/users/?offset=0&limit=100``: retrieve contacts with filters.
- ``GET /ping/``: check a key (and the cheapest authenticated request, for benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Header, NinjaAPI, Query

from api.auth import ApiKeyAuth
from api.customers import customer_page
from api.errors import (
    API_FIELD_NAMES,
    ApiError,
    from_service_error,
    install_exception_handlers,
    invalid,
)
from api.idempotency import idempotent, request_fingerprint
from api.interakt import interakt_filters
from api.limits import (
    MAX_EVENT_NAME_LENGTH,
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    LongNumberParser,
    check_storable,
)
from api.schemas import (
    ErrorOut,
    PingOut,
    TrackEventIn,
    TrackEventOut,
    TrackUserIn,
    TrackUserOut,
    TrackUsersBatchIn,
    TrackUsersBatchOut,
    UsersOut,
    UsersQueryIn,
)
from api.throttling import ApiKeyItemsThrottle, ApiKeyThrottle
from api.tracking import (
    Identity,
    OptInState,
    batch_summary,
    identity_of,
    opt_in_changed_count,
    sent_trait_names,
    track_answer,
    track_item,
    track_item_from_json,
)
from contacts import services
from contacts.fields import FieldRegistry, field_registry
from contacts.models import Contact
from contacts.phones import PhoneError, normalize_phone
from contacts.selectors import contact_match
from contacts.services import Actor, ServiceError, TrackItem, TrackOutcome

ERROR_STATUSES = frozenset({400, 401, 404, 409, 413, 415, 422, 429})
ERROR_RESPONSES = {ERROR_STATUSES: ErrorOut}
IDEMPOTENCY_HEADER = Header(
    None,
    alias="Idempotency-Key",
    description="Retrying with the same key returns the first answer without applying twice.",
    max_length=255,
)

public_api = NinjaAPI(
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
    throttle=ApiKeyThrottle(),
    parser=LongNumberParser(),
)
install_exception_handlers(public_api)
CONCURRENT_CHANGE = ApiError(
    409, "conflict", "Another request changed this contact at the same moment; send it again"
)


# --- Identity -------------------------------------------------------------------------------
def _contact_for(identity: Identity) -> Contact:
    """The contact an event is about: by userId when known, else by phone."""
    phone = None
    if identity.phone is not None:
        try:
            phone = normalize_phone(identity.phone, identity.country_code)
        except PhoneError as exc:
            raise ApiError(422, "validation_error", str(exc), API_FIELD_NAMES[exc.field]) from None
    if identity.user_id is None and phone is None:
        raise invalid("userId", "userId or phoneNumber with countryCode is required")
    try:
        contact = contact_match(user_id=identity.user_id, phone=phone)
    except ServiceError as exc:
        raise from_service_error(exc) from None
    if contact is None:
        who = " and ".join(
            part
            for part in (
                f'user id "{identity.user_id}"' if identity.user_id else "",
                f"phone {phone.e164}" if phone else "",
            )
            if part
        )
        field = "userId" if identity.user_id else "phoneNumber"
        raise ApiError(404, "not_found", f"No contact with {who}", field)
    return contact


# --- Answers --------------------------------------------------------------------------------
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


@public_api.post(
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
        item = track_item(payload)
        registry = field_registry()
        sent = sent_trait_names(item.values, registry)
        try:
            result = services.contact_upsert(
                actor=Actor.api(request.auth),
                user_id=item.user_id,
                phone_number=item.phone_number,
                country_code=item.country_code,
                values=item.values,
                tags=item.tags,
                create_attributes=True,
                registry=registry,
            )
        except ServiceError as exc:
            raise from_service_error(exc, sent) from None
        except IntegrityError:
            raise CONCURRENT_CHANGE from None
        contact = result.contact
        outcome = "created" if result.created else "updated" if result.changed else "unchanged"
        opt_in = OptInState(
            contact.whatsapp_opted, contact.opted_at, contact.opt_in_source, result.opt_in_changed
        )
        return track_answer(
            outcome,
            contact_id=contact.pk,
            user_id=contact.user_id,
            phone=contact.phone,
            opt_in=opt_in,
        )

    return _answer(request, idempotency_key, produce)


@public_api.post(
    "/track/users/batch/",
    response={200: TrackUsersBatchOut, **ERROR_RESPONSES},
    summary="Create or update many users",
    description=(
        "Up to 1,000 users, each exactly the body of /track/users/, applied in order: the "
        "answer holds one result per user, in the same order, with its status (created, "
        "updated, unchanged or refused), the HTTP status and the body the single call would "
        "have answered. A refused user never refuses the others; users naming one phone or "
        "userId apply one after the other. An Idempotency-Key covers the whole batch, and "
        "the rate limit counts users, not requests."
    ),
    operation_id="track_users_batch",
    throttle=ApiKeyItemsThrottle(),
)
def track_users_batch(
    request: HttpRequest,
    payload: TrackUsersBatchIn,
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> HttpResponse:
    def produce() -> dict[str, Any]:
        items: list[TrackItem | None] = []
        refused: dict[int, ApiError] = {}
        for index, raw in enumerate(payload.users):
            try:
                items.append(track_item_from_json(raw))
            except ApiError as error:
                items.append(None)
                refused[index] = error
        sent: dict[int, dict[str, str]] = {}

        def check(index: int, registry: FieldRegistry) -> ApiError | None:
            try:
                sent[index] = sent_trait_names(items[index].values, registry)
            except ApiError as error:
                return error
            return None

        try:
            outcomes = services.contacts_track_batch(
                actor=Actor.api(request.auth), items=items, check=check
            )
        except IntegrityError:
            raise CONCURRENT_CHANGE from None
        results = [
            _batch_result(outcome, refused.get(index), sent.get(index))
            for index, outcome in enumerate(outcomes)
        ]
        data = {"results": results, "optInChanged": opt_in_changed_count(results)}
        return {"result": True, "message": batch_summary(results), "data": data}

    return _answer(request, idempotency_key, produce)


def _batch_result(
    outcome: TrackOutcome | Exception | None,
    refused: ApiError | None,
    sent: dict[str, str] | None,
) -> dict[str, Any]:
    """One item's result: its status, the single call's HTTP status and body."""
    if isinstance(outcome, TrackOutcome):
        opt_in = OptInState(
            outcome.whatsapp_opted, outcome.opted_at, outcome.opt_in_source, outcome.opt_in_changed
        )
        body = track_answer(
            outcome.outcome,
            contact_id=outcome.contact_id,
            user_id=outcome.user_id,
            phone=outcome.phone,
            opt_in=opt_in,
        )
        return {"status": outcome.outcome, "statusCode": 200, **body}
    if isinstance(outcome, ServiceError):
        refused = from_service_error(outcome, sent)
    elif isinstance(outcome, ApiError):
        refused = outcome
    assert refused is not None, "an item is applied or refused"
    return {"status": "refused", "statusCode": refused.status, **refused.body()}


@public_api.post(
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
        check_storable(payload)
        event = " ".join(payload.event.split())
        if not event:
            raise invalid("event", "is required")
        if len(event) > MAX_EVENT_NAME_LENGTH:
            raise invalid("event", f"is longer than {MAX_EVENT_NAME_LENGTH} characters")
        contact = _contact_for(identity_of(payload))
        try:
            activity = services.contact_event_record(
                actor=Actor.api(request.auth),
                contact_id=contact.pk,
                event=event,
                traits=payload.traits or {},
            )
        except ServiceError as exc:
            raise from_service_error(exc) from None
        except Contact.DoesNotExist:
            raise ApiError(404, "not_found", "The contact was just deleted", "userId") from None
        return {
            "result": True,
            "message": "Event recorded",
            "data": {"id": activity.pk, "contactId": contact.pk, "event": event},
        }

    return _answer(request, idempotency_key, produce)


@public_api.post(
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
    check_storable(query)
    registry = field_registry()
    page = customer_page(
        filters=interakt_filters(query.filters, registry, supr_op=query.supr_op),
        offset=offset,
        limit=limit,
        registry=registry,
    )
    return JsonResponse(
        {
            "result": True,
            "message": "Customers found" if page.customers else "No customers found",
            "data": {
                "total_customers": page.total,
                "customers": page.customers,
                "has_next_page": page.has_next_page,
            },
        }
    )


@public_api.get(
    "/ping/",
    response={200: PingOut, **ERROR_RESPONSES},
    summary="Check an API key",
    description="Answers with the key's name: the cheapest authenticated request.",
    operation_id="ping",
)
def ping(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"result": True, "message": "pong", "data": {"key": request.auth.name}})

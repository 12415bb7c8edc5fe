"""The API's request and answer bodies (they are also its OpenAPI schema and docs page)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema

from api.limits import MAX_FILTERS_PER_CALL, MAX_TAGS_PER_CALL, MAX_USERS_PER_BATCH

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


class ErrorOut(Schema):
    result: bool = False
    code: str = Field(description="A stable machine-readable reason, e.g. validation_error.")
    message: str = Field(description="What went wrong, for people.")
    field: str | None = Field(None, description="The input at fault, when there is one.")


class IdentityIn(Schema):
    userId: StrictStr | StrictInt | None = Field(
        None, description="Your id for this person; matched first when given."
    )
    phoneNumber: StrictStr | StrictInt | None = Field(
        None,
        description='National digits with countryCode, or a full "+<code><number>" alone.',
    )
    countryCode: StrictStr | StrictInt | None = Field(
        None, description='e.g. "+91" or "91"; required unless phoneNumber starts with +.'
    )


class TrackUserIn(IdentityIn):
    model_config = ConfigDict(json_schema_extra={"examples": [e for _, e in SEED_EXAMPLES]})

    traits: dict[str, Any] | None = Field(
        None,
        description=(
            "Fields to set, by name (built-in name, email, whatsapp_opted, or any custom "
            "trait); null clears one, names not sent are left alone. A trait seen for the "
            "first time creates a field whose type is inferred from the value."
        ),
    )
    tags: list[StrictStr] | None = Field(
        None,
        max_length=MAX_TAGS_PER_CALL,
        description=f"Tags to add (add-only, case-insensitive), at most {MAX_TAGS_PER_CALL}.",
    )


class TrackedContactOut(Schema):
    id: int
    userId: str | None
    phoneNumber: str | None = Field(description="E.164")
    created: bool
    changed: bool
    whatsappOpted: bool = Field(description="WhatsApp opted, as this call left it.")
    optedInAt: str | None = Field(
        description=(
            "When WhatsApp opted was last set or cleared (UTC, e.g. 2026-12-01T10:15:00.000Z); "
            "null if never."
        )
    )
    optInSource: str = Field(
        description='Who last set or cleared it, e.g. "API key “Shop”", "Upload #12 by ana".'
    )
    optInChanged: bool = Field(
        description="This call set or cleared WhatsApp opted (stamping optedInAt, optInSource)."
    )


class TrackUserOut(Schema):
    result: bool
    message: str
    data: TrackedContactOut


class TrackUsersBatchIn(Schema):
    # Items are checked one by one (api.tracking), so that a bad one refuses only itself;
    # the schema still shows each as a /track/users/ body.
    users: list[Annotated[Any, WithJsonSchema(TrackUserIn.model_json_schema())]] = Field(
        max_length=MAX_USERS_PER_BATCH,
        description=f"At most {MAX_USERS_PER_BATCH} users, each a /track/users/ body.",
    )


class TrackResultOut(Schema):
    status: Literal["created", "updated", "unchanged", "refused"]
    statusCode: int = Field(description="The HTTP status the single call would answer.")
    result: bool
    message: str
    data: TrackedContactOut | None = Field(None, description="When applied.")
    code: str | None = Field(None, description="When refused, as in an error body.")
    field: str | None = Field(None, description="When refused: the input at fault.")


class TrackResultsOut(Schema):
    results: list[TrackResultOut] = Field(description="One per user sent, in order.")
    optInChanged: int = Field(
        description="How many of the users sent had WhatsApp opted set or cleared by this call."
    )


class TrackUsersBatchOut(Schema):
    result: bool
    message: str = Field(description='Counts, e.g. "2 created, 1 updated, 0 unchanged, 1 refused".')
    data: TrackResultsOut


class TrackEventIn(IdentityIn):
    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})

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

    filters: list[FilterIn] = Field(
        default_factory=list,
        max_length=MAX_FILTERS_PER_CALL,
        description=f"At most {MAX_FILTERS_PER_CALL} per call.",
    )
    supr_op: Literal["and", "or"] = Field("and", description="How filters combine.")


class CustomerOut(Schema):
    id: int
    user_id: str | None
    phone_number: str = Field(description="National digits.")
    country_code: str = Field(description='e.g. "+91"; empty without a phone.')
    phone: str | None = Field(description="E.164")
    created_at_utc: str
    modified_at_utc: str
    opted_in_at_utc: str | None = Field(
        description="When WhatsApp opted was last set or cleared; null if never."
    )
    opt_in_source: str = Field(
        description='Who last set or cleared WhatsApp opted, e.g. "API key “Shop”"; empty if never.'
    )
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

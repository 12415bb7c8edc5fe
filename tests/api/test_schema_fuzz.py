"""Schema-driven fuzzing: any input the OpenAPI schema allows, and much that it does not.

Schemathesis generates requests for every operation from the served schema and checks each
answer: never a 5xx, a documented status code and content type, a body matching the schema.
"""

from __future__ import annotations

import copy

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ApiClient
from tests.factories import AttributeFactory, make_contact
from tests.fuzz.strategies import fuzz_settings

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


SCHEMA_PATH = "/v1/public/openapi.json"
USERS_BY_ID = {"filters": [{"trait": "user_id", "op": "eq", "val": "$request.body#/userId"}]}
EVENT_FOR_ID = {"userId": "$request.body#/userId", "event": "Fuzzed", "traits": {}}
# Track user -> Get users / Track event with the user id just tracked: the stateful run then
# reads back and adds to contacts that exist, rather than only to random ids.
LINKS = {
    "GetUsersByUserId": {"operationId": "get_users", "requestBody": USERS_BY_ID},
    "TrackEventForUserId": {"operationId": "track_event", "requestBody": EVENT_FOR_ID},
}


def _load_schema() -> schemathesis.BaseSchema:
    from contacthub.wsgi import application

    served = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application)
    raw = copy.deepcopy(served.raw_schema)
    raw["paths"]["/v1/public/track/users/"]["post"]["responses"]["200"]["links"] = LINKS
    linked = schemathesis.openapi.from_dict(raw)
    linked.app, linked.location = application, SCHEMA_PATH
    return linked


schema = _load_schema()


@pytest.fixture
def fuzz_data(db, settings):
    settings.CONTACTHUB_API_RATE_LIMIT = "0"  # thousands of requests in seconds
    # Existing fields of every type, so that generated traits also meet type mismatches.
    types = [("Age", "number"), ("VIP", "boolean"), ("Birthday", "datetime"), ("Hobbies", "list")]
    for label, field_type in types:
        AttributeFactory(label=label, key=label.lower(), type=field_type)
    make_contact(user_id="known", phone_number="9967536783", age=30)
    # Requests go straight to the WSGI handler, whose end-of-request hook would close the
    # test's connection (in its transaction) on PostgreSQL; Django's test client does the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@fuzz_settings(40)
def test_no_server_errors_and_answers_match_the_schema(case, new_key, fuzz_data):
    case.call_and_validate(headers={"Authorization": f"Basic {new_key.secret}"}, checks=CHECKS)


def test_call_sequences_along_the_links_never_fail(new_key, fuzz_data):
    machine = schema.as_state_machine()
    headers = {"Authorization": f"Basic {new_key.secret}"}

    class Linked(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Linked.run(settings=fuzz_settings(15))


def test_schema_documents_every_endpoint_and_error(client):
    schema_json = client.get("/v1/public/openapi.json").json()

    paths = schema_json["paths"]
    assert set(paths) == {
        "/v1/public/track/users/",
        "/v1/public/track/users/batch/",
        "/v1/public/track/events/",
        "/v1/public/apis/users/",
        "/v1/public/ping/",
    }
    responses = paths["/v1/public/track/users/"]["post"]["responses"]
    assert {"200", "400", "401", "404", "409", "413", "422", "429"} <= set(responses)
    scheme = schema_json["components"]["securitySchemes"]
    assert next(iter(scheme.values()))["scheme"] == "basic"
    examples = schema_json["components"]["schemas"]["TrackUserIn"]["examples"]
    assert examples[0]["traits"]["name"] == "Gavin Roberts"


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["2024-10-31", "2024-10-31T19:30:00+05:30", "", " ", "\x00", "true"])
)
TRAIT_VALUES = (
    JSON_SCALARS
    | st.lists(JSON_SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=2)
)
TRAIT_NAMES = st.sampled_from(
    ["Age", "age", "VIP", "Birthday", "name", "Email", "whatsappOpted", "phone", "tags", "userId"]
) | st.text(max_size=110)


@given(
    traits=st.dictionaries(TRAIT_NAMES, TRAIT_VALUES, max_size=4),
    tags=st.lists(st.text(max_size=110), max_size=3),
    user_id=st.none() | st.sampled_from(["known", "other"]) | st.text(max_size=10),
    phone=st.none() | st.sampled_from(["9967536783", "+919967536784", "12", "+1"]),
)
@fuzz_settings(150)
def test_track_user_answers_2xx_409_or_422_to_any_traits(
    fuzz_data, new_key, traits, tags, user_id, phone
):
    client = ApiClient(new_key.secret)
    payload = {"userId": user_id, "phoneNumber": phone, "traits": traits, "tags": tags}

    response = client.track_user(payload)

    assert response.status_code in {200, 409, 422}, response.content
    body = response.json()
    if response.status_code != 200:
        assert set(body) == {"result", "code", "message", "field"}


FILTER_TRAITS = st.sampled_from(
    [
        *("Age", "VIP", "Birthday", "name", "email", "whatsapp_opted", "tags", "phone"),
        *("created_at_utc", "modified_at_utc", "user_id", "nope"),
    ]
)
ALL_OPS = [
    *("eq", "ne", "neq", "contains", "not_contains", "startswith", "gt", "gte", "lt", "lte"),
    *("between", "true", "false", "before", "after", "on", "last_days", "older_days"),
    *("empty", "not_empty", "any", "all", "none", "set", "unset", "is_set", "bogus"),
]
FILTER_OPS = st.sampled_from(ALL_OPS)
FILTER_VALUES = (
    JSON_SCALARS
    | st.lists(JSON_SCALARS, max_size=3)
    | st.sampled_from(
        ["9999-12-31", "0001-01-01", "2024-02-30", 10**30, 10**12, -1, "1e400", "+919967536783"]
    )
)


@given(
    filters=st.lists(
        st.fixed_dictionaries({"trait": FILTER_TRAITS, "op": FILTER_OPS, "val": FILTER_VALUES}),
        max_size=3,
    ),
    supr_op=st.sampled_from(["and", "or"]),
)
@fuzz_settings(60)
def test_get_users_answers_200_or_422_to_any_filters(fuzz_data, new_key, filters, supr_op):
    response = ApiClient(new_key.secret).users({"filters": filters, "supr_op": supr_op})

    assert response.status_code in {200, 422}, response.content


EDGE_VALUES = [None, 10**12, 10**30, 1e308, "x", "9999-12-31", "0001-01-01", ["a", "b"]]
EDGE_VALUES += [[10**30, 1], ["9999-12-31", "0001-01-01"]]


def test_every_operator_on_every_type_with_edge_values_is_200_or_422(fuzz_data, new_key):
    client = ApiClient(new_key.secret)
    traits = ["Age", "VIP", "Birthday", "Hobbies", "name", "tags", "created_at_utc"]
    unexpected = []
    for trait in traits:
        for op in ALL_OPS:
            for val in EDGE_VALUES:
                flt = {"trait": trait, "op": op, "val": val}
                response = client.users({"filters": [flt]})
                if response.status_code not in {200, 422}:
                    unexpected.append((flt, response.status_code))

    assert unexpected == []

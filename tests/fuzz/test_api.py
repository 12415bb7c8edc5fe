"""Generated payloads through the public API: a 2xx or a 4xx that names the field, never a 5xx.

Traits carry extreme date-times with every offset, huge and non-finite numbers, long and odd
Unicode, NUL and lone surrogates, against existing fields of every type and new names.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from contacts.models import Contact
from tests.api.conftest import ApiClient
from tests.fuzz.strategies import (
    FILTER_FIELDS,
    FILTER_TEXT,
    OPERATORS,
    TEXTS,
    TRAIT_NAMES,
    TRAIT_VALUES,
    fuzz_settings,
    to_json,
)

pytestmark = pytest.mark.django_db

REFUSALS = {400, 409, 413, 415, 422}
TAGS = st.lists(TEXTS | st.sampled_from(["VIP", "vip", "a;b", ""]), max_size=4)
USER_IDS = st.none() | st.sampled_from(["known", "other"]) | TEXTS
PHONES = st.none() | st.sampled_from(["9967536783", "+919967536784", "12", "+1", "\x00"]) | TEXTS


def assert_clear_answer(response: Any) -> None:
    """A success, or a refusal in the API's error shape whose message is about the request."""
    assert response.status_code < 500, response.content[:2000]
    if response.status_code == 200:
        return
    assert response.status_code in REFUSALS, response.content[:2000]
    body = response.json()
    assert set(body) == {"result", "code", "message", "field"}, body
    assert body["result"] is False and body["message"].strip(), body
    if body["field"] is not None:  # the part of the request at fault, named for the caller
        assert isinstance(body["field"], str) and body["field"].strip(), body
    else:  # only a refusal of the whole request (its size, its JSON, a conflict) names none
        assert body["code"] != "validation_error", body


@given(
    traits=st.dictionaries(TRAIT_NAMES, TRAIT_VALUES, max_size=5),
    tags=TAGS,
    user_id=USER_IDS,
    phone=PHONES,
    country_code=st.none() | st.sampled_from(["91", "+91", "1", "0", "999"]) | TEXTS,
)
@fuzz_settings(120)
def test_track_user_answers_clearly(
    known_contact, api: ApiClient, traits, tags, user_id, phone, country_code
):
    payload = {"userId": user_id, "phoneNumber": phone, "countryCode": country_code}
    payload |= {"traits": traits, "tags": tags}
    before = Contact.objects.count()

    note(to_json(payload)[:300])
    response = api.track_user(None, raw=to_json(payload))

    assert_clear_answer(response)
    if response.status_code != 200:
        assert Contact.objects.count() == before  # a refused call writes nothing


@given(
    traits=st.dictionaries(TRAIT_NAMES, TRAIT_VALUES, max_size=5),
    event=TEXTS,
    user_id=USER_IDS,
)
@fuzz_settings(60)
def test_track_event_answers_clearly(known_contact, api: ApiClient, traits, event, user_id):
    payload = {"userId": user_id, "phoneNumber": "9967536783", "event": event, "traits": traits}

    response = api.track_event(None, raw=to_json(payload))

    assert_clear_answer(response)


FILTERS = st.fixed_dictionaries(
    {
        "trait": st.sampled_from([*FILTER_FIELDS, "created_at_utc", "modified_at_utc"]) | TEXTS,
        "op": st.sampled_from(OPERATORS) | TEXTS,
        "val": TRAIT_VALUES | FILTER_TEXT,
    }
)


@given(
    filters=st.lists(FILTERS, max_size=4) | st.lists(FILTERS, min_size=90, max_size=120),
    supr_op=st.sampled_from(["and", "or"]) | TEXTS,
    query=st.sampled_from(["", "?offset=0&limit=10", "?limit=101", "?offset=" + "9" * 30])
    | st.builds(lambda o, n: f"?offset={o}&limit={n}", st.integers(), st.integers()),
)
@fuzz_settings(80)
def test_get_users_answers_clearly(known_contact, api: ApiClient, filters, supr_op, query):
    payload = {"filters": filters, "supr_op": supr_op}

    response = api.post(f"/v1/public/apis/users/{query}", None, raw=to_json(payload))

    assert_clear_answer(response)

"""What one call may send (api/limits.py), and the phone rule of the API's edge."""

from __future__ import annotations

import json

import pytest

from api.limits import MAX_FILTERS_PER_CALL, MAX_NEW_TRAITS_PER_CALL, MAX_TAGS_PER_CALL
from contacts.models import Activity, Attribute, Contact, Tag
from tests.factories import AttributeFactory, make_contact

pytestmark = pytest.mark.django_db

PHONE = "+919967536783"


def refused(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["result"] is False
    assert body["field"] == field
    assert body["message"]
    return body


# --- phoneNumber without countryCode ---------------------------------------------------------
@pytest.mark.parametrize("phone", ["9967536783", 9967536783, "09967536783"])
def test_national_phone_without_country_code_is_refused_naming_country_code(api, phone):
    body = refused(api.track_user({"phoneNumber": phone}), 422, "countryCode")

    assert "countryCode" in body["message"]
    assert not Contact.objects.exists()


def test_event_with_national_phone_and_no_country_code_is_refused(api):
    make_contact(phone_number="9967536783", country_code="91")

    refused(api.track_event({"phoneNumber": "9967536783", "event": "x"}), 422, "countryCode")
    assert not Activity.objects.filter(kind="event").exists()


@pytest.mark.parametrize("phone", [PHONE, "00919967536783", "'+919967536783"])
def test_international_phone_needs_no_country_code(api, phone):
    response = api.track_user({"phoneNumber": phone})

    assert response.status_code == 200, response.content
    assert Contact.objects.get().phone == PHONE


def test_national_phone_with_country_code_is_accepted(api):
    response = api.track_user({"phoneNumber": "9967536783", "countryCode": "91"})

    assert response.status_code == 200, response.content
    assert Contact.objects.get().phone == PHONE


def test_default_region_stays_for_the_app_itself(settings):
    """The web forms and CSV wizard (through the services) still read national numbers."""
    settings.CONTACTHUB_DEFAULT_REGION = "IN"
    contact = make_contact(phone_number="9967536783", country_code=None)

    assert contact.phone == PHONE


# --- values the database cannot store -------------------------------------------------------
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_non_finite_user_trait_is_refused_naming_it(api, number):
    raw = f'{{"phoneNumber": "{PHONE}", "traits": {{"Score": {number}, "name": "A"}}}}'

    body = refused(api.post("/v1/public/track/users/", raw=raw), 422, "traits.Score")

    assert "finite" in body["message"]
    assert not Contact.objects.exists()
    assert not Attribute.objects.exists()


@pytest.mark.parametrize("number", ["NaN", "1e309"])
def test_non_finite_event_trait_is_refused_naming_it(api, number):
    make_contact(user_id="u-1")
    raw = (
        f'{{"userId": "u-1", "event": "Paid", "traits": {{"amount": {{"value": [1, {number}]}}}}}}'
    )

    refused(api.post("/v1/public/track/events/", raw=raw), 422, "traits.amount.value.1")
    assert not Activity.objects.filter(kind="event").exists()


# --- per-call caps ---------------------------------------------------------------------------
def test_too_many_filters_are_refused_naming_the_limit(api):
    filters = [{"trait": "name", "op": "set"}] * 1000

    body = refused(api.users({"filters": filters}), 422, "filters")

    assert str(MAX_FILTERS_PER_CALL) in body["message"]


def test_filters_up_to_the_limit_work(api):
    make_contact(name="Asha")
    filters = [{"trait": "name", "op": "set"}] * MAX_FILTERS_PER_CALL

    response = api.users({"filters": filters})

    assert response.status_code == 200, response.content
    assert response.json()["data"]["total_customers"] == 1


def test_too_many_tags_in_one_call_are_refused(api):
    tags = [f"tag {n}" for n in range(MAX_TAGS_PER_CALL + 1)]

    body = refused(api.track_user({"phoneNumber": PHONE, "tags": tags}), 422, "tags")

    assert str(MAX_TAGS_PER_CALL) in body["message"]
    assert not Tag.objects.exists()


def test_too_many_new_traits_in_one_call_are_refused(api):
    traits = {f"Trait {n}": n for n in range(MAX_NEW_TRAITS_PER_CALL + 1)}

    body = refused(api.track_user({"phoneNumber": PHONE, "traits": traits}), 422, "traits")

    assert body["code"] == "too_many_new_traits"
    assert str(MAX_NEW_TRAITS_PER_CALL) in body["message"]
    assert not Attribute.objects.exists()


def test_known_traits_do_not_count_as_new(api):
    for n in range(MAX_NEW_TRAITS_PER_CALL + 1):
        AttributeFactory(label=f"Trait {n}")
    traits = {f"Trait {n}": str(n) for n in range(MAX_NEW_TRAITS_PER_CALL + 1)}

    response = api.track_user({"phoneNumber": PHONE, "traits": traits})

    assert response.status_code == 200, response.content


def test_custom_fields_stop_at_the_total_cap(api, settings):
    settings.CONTACTHUB_MAX_CUSTOM_FIELDS = 3
    AttributeFactory(label="One")
    AttributeFactory(label="Two")

    assert api.track_user({"phoneNumber": PHONE, "traits": {"Three": "x"}}).status_code == 200
    body = refused(api.track_user({"phoneNumber": PHONE, "traits": {"Four": "x"}}), 422, "traits")

    assert body["code"] == "too_many_custom_fields"
    assert "at most 3 custom fields" in body["message"]
    assert not Attribute.objects.filter(label="Four").exists()
    # Values of existing fields are still accepted at the cap.
    assert api.track_user({"phoneNumber": PHONE, "traits": {"Three": "y"}}).status_code == 200


# --- media type ------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_sent_with_another_content_type_is_415(api, content_type):
    response = api.client.post(
        "/v1/public/track/users/",
        data=json.dumps({"phoneNumber": PHONE}),
        content_type=content_type,
        headers=api.headers(),
    )

    body = refused(response, 415, "Content-Type")
    assert body["code"] == "unsupported_media_type"
    assert "application/json" in body["message"]
    assert not Contact.objects.exists()


def test_json_with_a_charset_is_accepted(api):
    response = api.client.post(
        "/v1/public/track/users/",
        data=json.dumps({"phoneNumber": PHONE}),
        content_type="application/json; charset=utf-8",
        headers=api.headers(),
    )

    assert response.status_code == 200, response.content

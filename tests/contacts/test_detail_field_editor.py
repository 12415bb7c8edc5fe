"""The pencil editor's per-type forms: what they accept, store and show."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from contacts.field_editor import FieldEditorForm, request_time_zone
from contacts.fields import BUILTIN_BY_KEY, Field

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
WHEN = Field(key="when", label="When", type="datetime", builtin=False)
SCORE = Field(key="score", label="Score", type="number", builtin=False)
COLOURS = Field(key="colours", label="Colours", type="list", builtin=False)


def bound(field: Field, zone: ZoneInfo, **data) -> FieldEditorForm:
    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = value
    query.setdefault("expected", "null")
    return FieldEditorForm(field=field, tz=zone, data=query)


@pytest.mark.parametrize(
    ("day", "clock", "zone", "stored"),
    [
        ("2024-10-31", "19:30", "Asia/Kolkata", "2024-10-31T14:00:00Z"),
        ("2024-07-01", "09:00", "America/New_York", "2024-07-01T13:00:00Z"),  # EDT, -4
        ("2024-12-01", "09:00", "America/New_York", "2024-12-01T14:00:00Z"),  # EST, -5
        ("2024-10-31", "00:30", "Asia/Kolkata", "2024-10-30T19:00:00Z"),  # the day before in UTC
        ("2024-10-31", "", "Asia/Kolkata", "2024-10-31"),  # a date is never shifted
    ],
)
def test_datetime_editor_converts_local_time_to_utc(day, clock, zone, stored):
    form = bound(WHEN, KOLKATA, value_date=day, value_time=clock, tz=zone)
    assert form.is_valid(), form.errors
    assert form.value_for_service() == stored


def test_datetime_editor_opens_with_local_date_time_and_zone():
    form = FieldEditorForm(field=WHEN, tz=KOLKATA, current="2024-10-30T19:00:00Z")
    assert form.initial["value"] == ["2024-10-31", "00:30", "Asia/Kolkata"]
    html = str(form["value"])
    assert 'name="value_date" value="2024-10-31"' in html
    assert 'name="value_time" value="00:30"' in html
    assert 'name="tz" value="Asia/Kolkata"' in html


def test_display_of_moments_dates_and_model_datetimes():
    assert WHEN.display("2024-10-31T14:00:00Z", KOLKATA) == "2024-10-31 19:30 IST"
    assert WHEN.display("2024-10-31", NEW_YORK) == "2024-10-31"
    created = BUILTIN_BY_KEY["created_at"]
    assert created.display(datetime(2024, 1, 1, 12, tzinfo=UTC), NEW_YORK) == (
        "2024-01-01 07:00 EST"
    )
    assert SCORE.display(1234567, KOLKATA) == "1,234,567"
    assert SCORE.display(2.5, KOLKATA) == "2.5"


def test_number_keeps_integers_and_refuses_letters():
    assert bound(SCORE, KOLKATA, value="42").is_valid()
    form = bound(SCORE, KOLKATA, value="4two")
    assert not form.is_valid()
    assert form.errors["value"] == ['Score: expected a number (got "4two")']


def test_list_editor_merges_chips_and_typed_items_without_duplicates():
    form = bound(COLOURS, KOLKATA, items=["red", "blue"], new_item="green, red;  ")
    assert form.is_valid()
    assert form.value_for_service() == ["red", "blue", "green"]


def test_expected_value_round_trips_as_json():
    form = bound(COLOURS, KOLKATA, items=["a"], expected='["a", "b"]')
    assert form.is_valid()
    assert form.expected_for_service() == ["a", "b"]
    conflict = form.with_expected(["x"])
    assert conflict.data["expected"] == '["x"]' and conflict.data.getlist("items") == ["a"]


@pytest.mark.parametrize(
    ("cookie", "zone"),
    [
        ("Asia%2FKolkata", "Asia/Kolkata"),
        ("Europe/Paris", "Europe/Paris"),
        ("Nowhere/Land", "UTC"),
        ("../../../etc/passwd", "UTC"),
        ("", "UTC"),
    ],
)
def test_request_time_zone_uses_only_known_zones(cookie, zone):
    assert request_time_zone({"tz": cookie}).key == zone

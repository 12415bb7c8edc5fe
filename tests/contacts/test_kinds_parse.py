"""Values by type (DESIGN.md): each kind parses every entry point's input the same way."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.kinds import CoercionError, infer, kind_for, suggest
from contacts.models import FieldType


def coerce(field_type, value, *, field="value", list_separator=";"):
    return kind_for(field_type).parse(value, label=field, list_separator=list_separator)


def display(field_type, value):
    return kind_for(field_type).display(value)


def infer_type(value):
    return infer(value)


def suggest_type(samples):
    return suggest(samples)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("  Mumbai ", "Mumbai"), ("Ajmal", "Ajmal"), (400001, "400001"), (12.0, "12"), ("", None)],
)
def test_text_is_trimmed_string(raw, stored):
    assert coerce(FieldType.TEXT, raw, field="City") == stored


@pytest.mark.parametrize("raw", [True, {"a": 1}, ["x"]])
def test_text_refuses_non_text(raw):
    with pytest.raises(CoercionError, match="City: expected text"):
        coerce(FieldType.TEXT, raw, field="City")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (42, 42),
        (42.0, 42),
        ("42", 42),
        ("-3.5", -3.5),
        ("1,234", 1234),
        ("1e3", 1000),
        (" 7 ", 7),
        (0.1, 0.1),
    ],
)
def test_number_is_json_number_integer_when_integral(raw, stored):
    value = coerce(FieldType.NUMBER, raw, field="Orders")
    assert value == stored
    assert type(value) is type(stored)


@pytest.mark.parametrize(
    "raw", ["abc", "12a", "NaN", "inf", float("nan"), float("inf"), True, [1], "1.2.3"]
)
def test_number_refuses_non_numbers_naming_the_field(raw):
    with pytest.raises(CoercionError) as info:
        coerce(FieldType.NUMBER, raw, field="Orders")
    assert info.value.field == "Orders"
    assert "Orders" in str(info.value)


@pytest.mark.parametrize("raw", [True, "TRUE", "true", "1", 1, "yes", "Yes"])
def test_boolean_true_spellings(raw):
    assert coerce(FieldType.BOOLEAN, raw, field="Newsletter") is True


@pytest.mark.parametrize("raw", [False, "FALSE", "false", "0", 0, "no", "NO"])
def test_boolean_false_spellings(raw):
    assert coerce(FieldType.BOOLEAN, raw, field="Newsletter") is False


@pytest.mark.parametrize("raw", ["maybe", 2, "2", 0.5])
def test_boolean_refuses_other_values(raw):
    with pytest.raises(CoercionError, match="expected true or false"):
        coerce(FieldType.BOOLEAN, raw, field="Newsletter")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2024-10-31T19:30:00.000+05:30", "2024-10-31T14:00:00Z"),
        ("2024-10-31T14:00:00Z", "2024-10-31T14:00:00Z"),
        ("2024-10-31", "2024-10-31"),
        ("2024-10-31T14:00", "2024-10-31T14:00:00Z"),
        ("2024-10-31 14:00:00+00:00", "2024-10-31T14:00:00Z"),
        ("2024-11-01T01:00:00+05:30", "2024-10-31T19:30:00Z"),
        (datetime(2024, 10, 31, 14, tzinfo=UTC), "2024-10-31T14:00:00Z"),
    ],
)
def test_datetime_iso_formats_of_the_guide(raw, stored):
    assert coerce(FieldType.DATETIME, raw, field="Last order") == stored


@pytest.mark.parametrize(
    "raw",
    [
        "2024-02-30",
        "31/10/2024",
        "yesterday",
        "2024-13-01T00:00Z",
        "2024-10-31T25:00:00Z",
        20241031,
    ],
)
def test_datetime_refuses_impossible_or_non_iso(raw):
    with pytest.raises(CoercionError) as info:
        coerce(FieldType.DATETIME, raw, field="Last order")
    assert "Last order" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("shoes;books", ["shoes", "books"]),
        (["a", "b", "a"], ["a", "b"]),
        (" x ; ;y", ["x", "y"]),
        ([1, "two"], ["1", "two"]),
    ],
)
def test_list_of_strings(raw, stored):
    assert coerce(FieldType.LIST, raw, field="Interests") == stored


def test_list_separator_chosen_at_mapping():
    assert coerce(FieldType.LIST, "a|b", field="Interests", list_separator="|") == ["a", "b"]


@pytest.mark.parametrize("raw", [{"a": 1}, [None], [["nested"]], 5])
def test_list_refuses_non_lists(raw):
    with pytest.raises(CoercionError):
        coerce(FieldType.LIST, raw, field="Interests")


@pytest.mark.parametrize("field_type", FieldType.values)
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_empty_means_no_value_for_every_type(field_type, empty):
    assert coerce(field_type, empty) is None


@pytest.mark.parametrize(
    ("value", "inferred"),
    [
        (True, FieldType.BOOLEAN),
        (3, FieldType.NUMBER),
        (2.5, FieldType.NUMBER),
        (["a"], FieldType.LIST),
        ("1996-12-01", FieldType.DATETIME),
        ("2024-10-31T14:00:00Z", FieldType.DATETIME),
        ("value y", FieldType.TEXT),
        ("400001", FieldType.TEXT),
    ],
)
def test_new_trait_type_is_inferred_from_json_value(value, inferred):
    assert infer_type(value) == inferred


def test_suggested_type_fits_every_sample():
    assert suggest_type(["1", "2.5", ""]) == FieldType.NUMBER
    assert suggest_type(["TRUE", "false"]) == FieldType.BOOLEAN
    assert suggest_type(["2024-10-31", "2024-11-01T10:00:00Z"]) == FieldType.DATETIME
    assert suggest_type(["12", "twelve"]) == FieldType.TEXT


def test_display_is_for_people():
    assert display(FieldType.BOOLEAN, True) == "Yes"
    assert display(FieldType.LIST, ["a", "b"]) == "a, b"
    assert display(FieldType.TEXT, None) == ""


# --- Properties -----------------------------------------------------------------------------
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC]) | st.timezones(),
)


@given(st.lists(aware_datetimes, min_size=2, max_size=2))
def test_stored_datetimes_sort_chronologically(pair):
    a, b = pair
    sa, sb = (coerce(FieldType.DATETIME, d.isoformat()) for d in (a, b))
    ua, ub = (d.astimezone(UTC).replace(microsecond=0) for d in (a, b))
    assert (sa < sb) == (ua < ub)
    assert (sa == sb) == (ua == ub)


@given(aware_datetimes)
def test_datetime_coercion_is_idempotent(moment):
    once = coerce(FieldType.DATETIME, moment.isoformat())
    assert coerce(FieldType.DATETIME, once) == once


@given(
    st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
)
def test_number_round_trips_through_text(number):
    stored = coerce(FieldType.NUMBER, number)
    assert math.isclose(coerce(FieldType.NUMBER, repr(stored)), stored, rel_tol=1e-12, abs_tol=0)


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters=";", blacklist_categories=["Cs"]),
            min_size=1,
        ).filter(lambda item: not item.strip().startswith('"'))  # a quoted item: test_csv_cells
    )
)
def test_list_from_cell_keeps_items_trimmed_and_unique(items):
    stored = coerce(FieldType.LIST, ";".join(items))
    expected = []
    for item in items:
        if item.strip() and item.strip() not in expected:
            expected.append(item.strip())
    assert stored == (expected or None) if ";".join(items).strip() == "" else stored == expected


@given(st.text())
def test_any_text_either_coerces_or_raises_coercion_error(text):
    for field_type in FieldType.values:
        try:
            coerce(field_type, text, field="F")
        except CoercionError as exc:
            assert exc.field == "F"

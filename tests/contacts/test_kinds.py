"""Each field kind on its own: parse from every source, display in several zones, export
round-trips through parse, inference, and filters at the edges of each type."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.fields import BUILTIN_BY_KEY, Field, field_registry
from contacts.filters import FilterError, parse_filter
from contacts.kinds import CoercionError, infer, kind_for, suggest
from contacts.kinds.base import KINDS
from contacts.models import Contact, FieldType
from tests.factories import AttributeFactory, make_contact

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TEXT, NUMBER, BOOLEAN = kind_for("text"), kind_for("number"), kind_for("boolean")
DATETIME, LIST, TAGS = kind_for("datetime"), kind_for("list"), kind_for("tags")


def test_every_field_type_has_a_kind_and_tags_has_its_own():
    assert set(FieldType.values) | {"tags"} == set(KINDS)
    assert all(kind_for(name).name == name for name in KINDS)


# --- Parse from a form, a CSV cell and API JSON ------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "form", "cell", "json_value", "stored"),
    [
        (TEXT, " Pune ", "Pune", "Pune", "Pune"),
        (NUMBER, "1,234", "1234", 1234, 1234),
        (NUMBER, "2.50", "2.5", 2.5, 2.5),
        (BOOLEAN, True, "TRUE", True, True),
        (BOOLEAN, False, "no", False, False),
        (DATETIME, "2024-10-31T14:00:00Z", "2024-10-31 19:30+05:30", "2024-10-31T14:00Z", None),
        (DATETIME, "2024-10-31", "2024-10-31", "2024-10-31", "2024-10-31"),
        (LIST, ["a", "b"], "a;b", ["a", "b", "a"], ["a", "b"]),
        (TAGS, ["VIP"], "VIP", ["VIP"], ["VIP"]),
    ],
)
def test_each_source_gives_the_same_stored_value(kind, form, cell, json_value, stored):
    stored = stored if stored is not None else "2024-10-31T14:00:00Z"
    assert kind.parse(form, label="F") == stored
    assert kind.parse(cell, label="F") == stored
    assert kind.parse(json_value, label="F") == stored


def test_list_cells_use_the_chosen_separator():
    assert LIST.parse("a|b", label="F", list_separator="|") == ["a", "b"]
    assert LIST.parse("a|b", label="F") == ["a|b"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("NaN", "expected a number"),
        ("Infinity", "expected a number"),
        (float("nan"), "expected a finite number"),
        (float("inf"), "expected a finite number"),
        ("1e309", "expected a finite number"),
        ("9" * 5000, "too long to be a number"),
        (10**30, "too large"),
        ("-" + "9" * 25, "too large"),
    ],
)
def test_numbers_that_cannot_be_stored_are_refused_with_the_field_named(raw, problem):
    with pytest.raises(CoercionError) as info:
        NUMBER.parse(raw, label="Orders")
    assert info.value.field == "Orders"
    assert problem in info.value.problem


def test_email_and_phone_are_text_with_their_own_rules():
    email = BUILTIN_BY_KEY["email"]
    assert email.type == "text"
    assert email.parse(" a@example.com ") == "a@example.com"
    with pytest.raises(CoercionError, match="Email: not a valid email address"):
        email.parse("not-an-email")


# --- Date-times: stored form, ends of the calendar ------------------------------------------
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0999-05-05", "0999-05-05"),
        ("0999-05-05T10:00:00Z", "0999-05-05T10:00:00Z"),
        ("0001-01-01T05:30:00+05:30", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ],
)
def test_years_before_1000_are_stored_with_four_digits(raw, stored):
    assert DATETIME.parse(raw) == stored


@pytest.mark.parametrize("raw", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:30"])
def test_moments_outside_the_utc_calendar_are_refused_naming_the_field(raw):
    with pytest.raises(CoercionError) as info:
        DATETIME.parse(raw, label="Renewal")
    assert info.value.field == "Renewal"
    assert "year out of range" in info.value.problem


year_strings = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


@given(st.lists(year_strings, min_size=2, max_size=2))
def test_stored_datetimes_of_any_year_sort_chronologically(pair):
    a, b = (DATETIME.parse(d.replace(tzinfo=UTC).isoformat()) for d in pair)
    ua, ub = (d.replace(microsecond=0) for d in pair)
    assert (a < b) == (ua < ub)


# --- Display for people ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stored", "zone", "shown"),
    [
        ("2024-10-31T14:00:00Z", KOLKATA, "2024-10-31 19:30 IST"),
        ("2024-10-31T14:00:00Z", NEW_YORK, "2024-10-31 10:00 EDT"),
        ("2024-12-31T14:00:00Z", LONDON, "2024-12-31 14:00 GMT"),
        ("2024-10-31T14:00:00Z", UTC, "2024-10-31 14:00 UTC"),
        ("2024-10-31", NEW_YORK, "2024-10-31"),
        ("0999-05-05", KOLKATA, "0999-05-05"),
        ("9999-12-31T23:00:00Z", KOLKATA, "9999-12-31 23:00 UTC"),
        ("9999-12-31T23:00:00Z", NEW_YORK, "9999-12-31 18:00 EST"),
        ("0001-01-01T01:00:00Z", NEW_YORK, "0001-01-01 01:00 UTC"),
        ("0001-01-01T01:00:00Z", KOLKATA, "0001-01-01 06:53 LMT"),
        (datetime(2024, 1, 1, 12, tzinfo=UTC), NEW_YORK, "2024-01-01 07:00 EST"),
        ("not a date", KOLKATA, "not a date"),
    ],
)
def test_datetimes_show_in_the_viewers_zone_with_the_zone_named(stored, zone, shown):
    assert DATETIME.display(stored, zone) == shown


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)), st.timezones())
def test_displaying_a_stored_datetime_never_fails(moment, zone):
    stored = moment.replace(microsecond=0).isoformat() + "Z"
    assert DATETIME.display(stored, zone)[:2].isdigit()


@pytest.mark.parametrize(
    ("kind", "stored", "shown"),
    [
        (NUMBER, 1234567, "1,234,567"),
        (NUMBER, -1234.5, "-1,234.5"),
        (NUMBER, 2.5, "2.5"),
        (NUMBER, 1e20, "1e+20"),
        (NUMBER, 0, "0"),
        (BOOLEAN, True, "Yes"),
        (BOOLEAN, False, "No"),
        (LIST, ["a", "b"], "a, b"),
        (TAGS, ["VIP", "Lead"], "VIP, Lead"),
        (TEXT, None, ""),
        (NUMBER, None, ""),
        (TEXT, "Pune", "Pune"),
    ],
)
def test_values_show_the_same_way_everywhere(kind, stored, shown):
    assert kind.display(stored, KOLKATA) == shown


# --- Export cell: what the importer reads back ----------------------------------------------
@pytest.mark.parametrize(
    ("kind", "stored", "cell"),
    [
        (NUMBER, 1234567, "1234567"),
        (NUMBER, 0.1, "0.1"),
        (BOOLEAN, True, "TRUE"),
        (BOOLEAN, False, "FALSE"),
        (DATETIME, "2024-10-31T14:00:00Z", "2024-10-31T14:00:00Z"),
        (DATETIME, datetime(2024, 10, 31, 19, 30, tzinfo=KOLKATA), "2024-10-31T14:00:00Z"),
        (LIST, ["a", "b"], "a;b"),
        (TAGS, ["VIP", "Lead"], "VIP;Lead"),
        (TEXT, None, ""),
    ],
)
def test_export_cells(kind, stored, cell):
    assert kind.export(stored) == cell


stored_values = st.one_of(
    st.tuples(st.just(TEXT), st.text(min_size=1).map(str.strip).filter(bool)),
    st.tuples(st.just(NUMBER), st.integers(-(2**63) + 1, 2**63 - 1)),
    st.tuples(st.just(NUMBER), st.floats(allow_nan=False, allow_infinity=False)),
    st.tuples(st.just(BOOLEAN), st.booleans()),
    st.tuples(
        st.just(DATETIME),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
            lambda d: DATETIME.parse(d.replace(tzinfo=UTC))
        ),
    ),
    st.tuples(
        st.just(LIST),
        st.lists(
            st.text(st.characters(blacklist_characters=";", blacklist_categories=["Cs"]))
            .map(str.strip)
            .filter(bool),
            min_size=1,
            unique=True,
        ),
    ),
)


@given(stored_values)
def test_export_reads_back_to_the_stored_value(pair):
    kind, stored = pair
    stored = kind.parse(stored)
    assert kind.parse(kind.export(stored)) == stored


# --- Inference: one rule for the API, the wizard and import_contacts -------------------------
@pytest.mark.parametrize(
    ("value", "inferred"),
    [
        (True, "boolean"),
        (3, "number"),
        (2.5, "number"),
        (["a"], "list"),
        ("1996-12-01", "datetime"),
        ("0999-05-05", "datetime"),
        ("400001", "text"),
        # Not a moment UTC can hold, so not a date-time: the trait becomes text.
        ("9999-12-31T23:59:59-05:00", "text"),
        (None, "text"),
        ({"a": 1}, "text"),
    ],
)
def test_api_traits_get_their_type_from_their_json_value(value, inferred):
    assert infer(value) == inferred


@pytest.mark.parametrize(
    ("samples", "suggested"),
    [
        (["1", "2.5", ""], "number"),
        (["TRUE", "false"], "boolean"),
        (["2024-10-31", "2024-11-01T10:00:00Z"], "datetime"),
        (["12", "twelve"], "text"),
        (["a;b", "c"], "text"),
        (["9999-12-31T23:59:59-05:00"], "text"),
        ([], "text"),
    ],
)
def test_csv_columns_get_the_type_every_cell_fits(samples, suggested):
    assert suggest(samples) == suggested


# --- Filters at the edges ---------------------------------------------------------------------
@pytest.fixture
def registry(db):
    AttributeFactory(label="Orders", key="orders", type="number")
    AttributeFactory(label="Renewal", key="renewal", type="datetime")
    return field_registry()


@pytest.mark.parametrize(
    "raw",
    [
        "orders:gt:NaN",
        "orders:lt:Infinity",
        "orders:eq:1e309",
        f"orders:gt:{'9' * 5000}",
        f"orders:gt:{'9' * 399}",
        "renewal:before:9999-12-31T23:59:59-05:00",
        "renewal:last_days:1e9",
    ],
)
def test_filter_values_a_type_cannot_hold_are_refused_naming_the_field(registry, raw):
    with pytest.raises(FilterError, match=r"^(Orders|Renewal): "):
        parse_filter(raw, registry)


@pytest.mark.parametrize(
    "raw",
    [
        "renewal:on:9999-12-31",
        "renewal:after:9999-12-31",
        "renewal:between:0001-01-01|9999-12-31",
        "created_at:on:9999-12-31",
        "created_at:after:9999-12-31T23:59:59Z",
        "created_at:between:0001-01-01|9999-12-31",
        "orders:gt:1e300",
    ],
)
def test_filters_at_the_ends_of_the_range_run(registry, raw, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # midnight of 0001-01-01 there is before UTC's calendar
    make_contact(renewal="9999-12-31T23:59:59Z", orders=5)
    flt = parse_filter(raw, registry)
    assert Contact.objects.filter(flt.q()).count() in (0, 1)


def test_a_deleted_fields_values_show_as_text():
    gone = Field(key="gone", label="gone", type="text", builtin=False)
    assert gone.display({"a": 1}, KOLKATA) == "{'a': 1}"

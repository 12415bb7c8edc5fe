from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts.phones import PhoneError, normalize_country_code, normalize_phone


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("9876543210", "+91"),
        ("9876543210", "91"),
        ("+919876543210", None),
        ("09876543210", "+91"),
        ("'+919876543210", None),
        ("+91 98765 43210", None),
        ("98765-43210", "91"),
        ("00919876543210", None),
        ("9876543210", 91),
        ("+919876543210", "+91"),
    ],
)
def test_common_spellings_give_e164(number, code):
    phone = normalize_phone(number, code)
    assert phone.e164 == "+919876543210"
    assert phone.country_code == "91"
    assert phone.national_number == "9876543210"


def test_other_countries():
    assert normalize_phone("(415) 555-2671", "+1").e164 == "+14155552671"
    assert normalize_phone("+44 20 7946 0958").e164 == "+442079460958"


@pytest.mark.parametrize("number", ["98765", "98765432101234", "123"])
def test_impossible_number_for_its_country_is_refused(number):
    with pytest.raises(PhoneError, match="not a possible phone number for IN"):
        normalize_phone(number, "+91")


@pytest.mark.parametrize("number", ["abc", "98765abc10", "", "   "])
def test_not_a_number_is_refused(number):
    with pytest.raises(PhoneError):
        normalize_phone(number, "91")


def test_spreadsheet_scientific_notation_is_refused_with_explanation():
    with pytest.raises(PhoneError, match="scientific notation"):
        normalize_phone("9.87654E+09", "91")


def test_country_code_that_disagrees_with_plus_number_is_refused():
    with pytest.raises(PhoneError, match="country code"):
        normalize_phone("+14155552671", "91")


@pytest.mark.parametrize("code", ["+999", "abc", "0"])
def test_unknown_country_code_is_refused(code):
    with pytest.raises(PhoneError) as info:
        normalize_country_code(code)
    assert info.value.field == "country_code"


def test_number_without_code_uses_default_region(settings):
    settings.CONTACTHUB_DEFAULT_REGION = "IN"
    assert normalize_phone("9876543210").e164 == "+919876543210"


@given(
    st.integers(min_value=6_000_000_000, max_value=9_999_999_999),
    st.sampled_from(["", "+91 ", "0", "91"]),
    st.sampled_from(["+91", "91"]),
)
def test_every_spelling_of_an_indian_mobile_agrees(number, prefix, code):
    digits = str(number)
    written = f"{prefix}{digits}"
    assert normalize_phone(written, code).e164 == f"+91{digits}"
    assert normalize_phone(f"+91{digits}").e164 == f"+91{digits}"

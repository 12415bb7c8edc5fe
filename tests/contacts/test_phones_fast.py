"""The fast path for national digits agrees with the full phonenumbers parse."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts import phones
from contacts.phones import PhoneError

CODES = sorted(
    str(code)
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
    if regions and regions[0] != "001"
)
COMMON = ["91", "1", "44", "49", "971", "966", "65", "61", "55", "52", "7", "39", "33", "62"]


def full(digits: str, code: str):
    try:
        return phones._normalize_full(digits, digits, code)
    except PhoneError:
        return None


@settings(max_examples=3000, deadline=None)
@given(
    code=st.sampled_from(CODES) | st.sampled_from(COMMON),
    digits=st.text(alphabet="0123456789", min_size=1, max_size=16),
)
def test_fast_path_agrees_with_full_parse(code, digits):
    fast = phones._fast_national(digits, code)
    if fast is not None:
        assert fast == full(digits, code)


@settings(max_examples=2000, deadline=None)
@given(code=st.sampled_from(COMMON), rest=st.text(alphabet="0123456789", min_size=6, max_size=12))
def test_fast_path_agrees_on_realistic_numbers(code, rest):
    digits = "9" + rest
    fast = phones._fast_national(digits, code)
    if fast is not None:
        assert fast == full(digits, code)


@pytest.mark.parametrize(
    ("digits", "code", "fast_taken"),
    [
        ("9876543210", "91", True),  # the common case takes the fast path
        ("09876543210", "91", False),  # national prefix: full parse strips it
        ("919876543210", "91", False),  # the country code written again: full parse decides
        ("2015550123", "1", True),
        ("12015550123", "1", False),
        ("98765", "91", False),  # impossible length: full parse gives the error
    ],
)
def test_fast_path_is_taken_only_when_safe(digits, code, fast_taken):
    assert (phones._fast_national(digits, code) is not None) is fast_taken
    expected = full(digits, code)
    if expected is None:
        with pytest.raises(PhoneError):
            phones.normalize_phone(digits, code)
    else:
        assert phones.normalize_phone(digits, code) == expected

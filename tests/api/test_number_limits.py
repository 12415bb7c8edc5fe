"""Numbers a trait cannot hold are refused with the trait named, never a server error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db
HEAD = '{"phoneNumber": "9876543210", "countryCode": "+91", "traits": {"n": '


# NaN and 1e309: tests/api/test_limits.py.
def test_an_integer_beyond_64_bits_is_refused_naming_the_trait(api):
    body = HEAD + "9" * 30 + "}}"
    response = api.post("/v1/public/track/users/", raw=body)
    assert response.status_code == 422
    assert response.json()["field"] == "traits.n"
    assert response.json()["message"].startswith("n: too large")


def test_a_number_of_5000_digits_is_refused_naming_the_trait(api):
    body = HEAD + "9" * 5000 + "}}"
    response = api.post("/v1/public/track/users/", raw=body)
    assert response.status_code == 422
    assert response.json()["field"] == "traits.n"
    assert "beyond 1e308" in response.json()["message"]

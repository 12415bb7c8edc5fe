"""``field_registry()`` reads the fields on every call and rebuilds only when they changed."""

from __future__ import annotations

import pytest

from contacts.fields import field_registry
from contacts.models import Attribute

pytestmark = pytest.mark.django_db


def test_the_same_rows_give_the_same_registry_and_a_change_a_new_one(
    django_assert_num_queries,
):
    Attribute.objects.create(key="city", label="City", type="text")
    first = field_registry()
    with django_assert_num_queries(1):  # read every time: another process may change a field
        assert field_registry() is first

    Attribute.objects.filter(key="city").update(label="Town", type="number")
    changed = field_registry()
    assert changed is not first
    assert changed["city"].label == "Town" and changed["city"].type == "number"
    assert changed.resolve("town") is changed["city"]

    Attribute.objects.filter(key="city").delete()
    assert "city" not in field_registry()

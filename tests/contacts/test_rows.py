"""``select_in``: the batch writers' reads of rows by a list of values."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.selectors.rows import select_in
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_rows_come_back_for_the_values_given_once_each():
    asha = make_contact(name="Asha")
    ravi = make_contact(name="Ravi")
    make_contact(name="Other")
    rows = select_in(Contact, ["id", "name"], "phone", [asha.phone, ravi.phone, asha.phone, "+1"])
    assert sorted(rows) == sorted([(asha.pk, "Asha"), (ravi.pk, "Ravi")])
    assert select_in(Contact, ["id"], "phone", []) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes are PostgreSQL's")
def test_the_read_is_planned_without_bitmap_scans_and_the_setting_comes_back():
    # The phone's trigram (GIN) index can serve equality, and only through a bitmap scan;
    # probing it per value is what made a batch of 500 take seconds.
    asha = make_contact(name="Asha")
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        assert select_in(Contact, ["id"], "phone", [asha.phone]) == [(asha.pk,)]
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_bitmapscan")
            assert cursor.fetchone() == ("on",)
    statements = [q["sql"] for q in captured.captured_queries]
    select = next(i for i, sql in enumerate(statements) if "unnest" in sql)
    assert statements[select - 1] == "SET LOCAL enable_bitmapscan = off"
    assert statements[select + 1] == "SET LOCAL enable_bitmapscan = on"

"""The trigram search index: kept in step by every write, used by the list's search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Window
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.fields import field_registry
from contacts.models import Contact
from contacts.search_index import FTS_TABLE, SQLITE_TRIGGERS, search_index_repair, uses_fts
from contacts.selectors import contact_list, search_for
from contacts.selectors import search as search_module
from tests.factories import make_contact

pytestmark = pytest.mark.django_db
LIST = reverse("contacts:list")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}


def names(search: str) -> set[str]:
    return set(
        contact_list(registry=field_registry(), search=search).values_list("name", flat=True)
    )


def test_search_follows_inserts_updates_and_deletes_made_outside_the_services():
    asha = make_contact(name="Asha Rao", email="asha@example.com", user_id="crm-77")
    make_contact(name="Bala", phone_number="9123456780")
    assert names("sha r") == {"Asha Rao"}
    # A raw UPDATE (as a batch import writes) must reach the index too.
    Contact.objects.filter(pk=asha.pk).update(name="Asha Menon", email="menon@example.org")
    assert names("sha r") == set()
    assert names("MENON") == {"Asha Menon"}
    assert names("91234") == {"Bala"}
    Contact.objects.filter(name="Bala").delete()
    assert names("91234") == set()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("crm-77", {"Asha"}), ("ASHA@EX", {"Asha"}), ("a", {"Asha", "Bala"}), ("al", {"Bala"})],
)
def test_short_and_long_queries_find_the_same_kind_of_match(typed, expected):
    make_contact(name="Asha", email="asha@example.com", user_id="crm-77")
    make_contact(name="Bala", phone_number="9123456780")
    assert names(typed) == expected


def test_short_query_says_it_read_every_contact(viewer_client):
    make_contact(name="Al")
    html = viewer_client.get(LIST, {"q": "Al"}, **HTMX).content.decode()
    assert "too short for the search index" in html
    assert search_for("Al").indexed is False
    assert search_for("Ala").indexed is True
    assert "phone numbers" in search_for("98765 43210").note


def test_search_page_query_count_is_constant(viewer_client, django_assert_max_num_queries):
    for i in range(3):
        make_contact(name=f"Asha {i}")
    with django_assert_max_num_queries(12) as few:
        viewer_client.get(LIST, {"q": "Asha"}, **HTMX)
    for i in range(20):
        make_contact(name=f"Asha x{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        viewer_client.get(LIST, {"q": "Asha"}, **HTMX)


def explain(search: str) -> str:
    # The page's own query shape: the window count makes the database collect the matches.
    queryset = contact_list(registry=field_registry(), search=search)
    page = queryset.annotate(matching=Window(Count("pk"))).filter(matching__gt=0)[:50]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A handful of rows would be read whole, or along the sort index: leave the
            # planner only bitmap scans, which it can take only if an index matches.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("search", "indexes"),
    [
        ("asha", ("contact_name_trgm", "contact_email_trgm", "contact_user_id_trgm")),
        ("98765 43", ("contact_phone_trgm", "contact_user_id_trgm")),
    ],
)
def test_search_uses_the_trigram_index(search, indexes):
    make_contact(name="Asha")
    if connection.vendor == "postgresql":
        plan = explain(search)
        for index in indexes:
            assert index in plan
        assert "Seq Scan" not in plan
        return
    assert uses_fts(connection)
    with CaptureQueriesContext(connection) as built:
        plan = explain(search)
    # The FTS5 table is matched once, as the search is built; the page reads those ids.
    (match,) = [q["sql"] for q in built.captured_queries if "MATCH" in q["sql"]]
    assert FTS_TABLE in match
    assert "USING INTEGER PRIMARY KEY" in plan and FTS_TABLE not in plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_a_list_search_matches_the_index_once_and_many_matches_stay_a_subquery(
    viewer_client, monkeypatch
):
    for i in range(5):
        make_contact(name=f"Asha {i}")
    with CaptureQueriesContext(connection) as page:
        html = viewer_client.get(LIST, {"q": "asha"}, **HTMX).content.decode()
    assert "5 matching" in html
    assert len([q for q in page.captured_queries if "MATCH" in q["sql"]]) == 1
    monkeypatch.setattr(search_module, "READ_ONCE_AT_MOST", 3)
    assert names("asha") == {f"Asha {i}" for i in range(5)}
    queryset = contact_list(registry=field_registry(), search="asha")
    assert f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH" in str(queryset.query)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers")
def test_repair_puts_back_dropped_triggers_and_refills_the_index():
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    make_contact(name="Written while unindexed")
    assert names("unindexed") == set()
    search_index_repair(connection)
    assert names("unindexed") == {"Written while unindexed"}
    make_contact(name="Written after")
    assert names("after") == {"Written after"}

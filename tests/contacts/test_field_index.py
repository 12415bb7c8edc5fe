"""Expression indexes on custom fields: built by ``index_field``, used by filters and sorts."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Window

from contacts.fields import field_registry
from contacts.filtering import FilterTree
from contacts.filters import parse_filter
from contacts.models import Attribute, Contact, FieldType
from contacts.selectors import contact_list
from contacts.services.field_index import field_index_name, index_state
from tests.factories import AttributeFactory, make_contact

# CREATE INDEX CONCURRENTLY cannot run inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = StringIO()
    call_command("index_field", *args, stdout=out)
    return out.getvalue()


def page_plan(queryset) -> str:
    """The plan of the list page's own query for few matches (window count, first 50 rows)."""
    return plan(queryset.annotate(matching=Window(Count("pk"))).filter(matching__gt=0)[:50])


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A handful of rows would be read whole: see whether the index can serve at all.
            cursor.execute("SET enable_seqscan = off")
            try:
                cursor.execute(f"EXPLAIN {sql}", params)
                return "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("RESET enable_seqscan")
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def listed(*filters: str, sort: str = "-created_at"):
    registry = field_registry()
    return contact_list(
        registry=registry,
        filters=FilterTree.of(parse_filter(f, registry) for f in filters),
        sort=sort,
    )


def test_index_field_is_idempotent_and_drops_again():
    city = AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    assert "Building" in run("city")
    assert index_state(field_index_name("city")) == "valid"
    assert "already indexed" in run("city")
    assert Attribute.objects.get(pk=city.pk).indexed
    assert "Dropping" in run("city", "--drop")
    assert "had no index" in run("city", "--drop")
    assert index_state(field_index_name("city")) == "missing"
    assert not Attribute.objects.get(pk=city.pk).indexed


def test_index_field_refuses_a_kind_without_an_index_and_an_unknown_key():
    AttributeFactory(key="vip", label="VIP", type=FieldType.BOOLEAN)
    with pytest.raises(CommandError, match="a boolean field cannot be indexed"):
        run("vip")
    with pytest.raises(CommandError, match='No custom field with the key "nope"'):
        run("nope")


def test_indexed_text_filter_and_number_sort_use_the_indexes():
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    make_contact(name="Low", city="Pune", score=3)
    make_contact(name="High", city="PUNE", score=30)
    make_contact(name="Elsewhere", city="Goa", score=50)
    # Contacts elsewhere, so that a plan that knows the values (the index build reads their
    # spread) has a reason to prefer the City index to walking the Score index.
    Contact.objects.bulk_create(
        Contact(
            phone=f"+9197{n:08d}",
            phone_number=f"97{n:08d}",
            country_code="91",
            traits={"city": "Goa", "score": 1},
        )
        for n in range(300)
    )
    run("city")
    run("score")
    by_score = listed("city:eq:pune", sort="score")
    assert [c.name for c in by_score] == ["Low", "High"]
    assert [c.name for c in listed("score:gt:10", sort="-score")] == ["Elsewhere", "High"]
    assert field_index_name("city") in page_plan(by_score)
    assert field_index_name("score") in page_plan(listed("score:gt:10"))


def test_ne_still_counts_contacts_without_a_value():
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(name="Pune", city="Pune")
    make_contact(name="Nowhere")
    run("city")
    assert [c.name for c in listed("city:ne:PUNE")] == ["Nowhere"]


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite matches index expressions by their text"
)
def test_trait_expressions_are_written_the_same_whatever_the_hash_seed(monkeypatch):
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    sql = str(listed("city:eq:Pune").query)
    # Django names JSON's types from a frozenset: another process may list them otherwise.
    monkeypatch.setattr(connection.ops, "jsonfield_datatype_values", ("true", "null", "false"))
    assert str(listed("city:eq:Pune").query) == sql
    assert "IN ('false','null','true')" in sql


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite matches index expressions by their text"
)
def test_an_index_written_another_way_is_rebuilt_and_used():
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    make_contact(name="Asha", city="Pune")
    run("city")
    name = field_index_name("city")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [name])
        (built,) = cursor.fetchone()
        cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(built.replace("'false','null','true'", "'null','false','true'"))
    assert name not in page_plan(listed("city:eq:Pune"))
    assert "Rebuilding" in run("city")
    assert name in page_plan(listed("city:eq:Pune"))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite walks one index either way; PostgreSQL reads one backwards only with "
    "missing values first",
)
def test_a_descending_sort_walks_the_reverse_index_and_drops_go_with_the_field():
    AttributeFactory(key="city", label="City", type=FieldType.TEXT)
    score = AttributeFactory(key="score", label="Score", type=FieldType.NUMBER)
    make_contact(name="High", score=30)
    make_contact(name="Blank")
    make_contact(name="Low", score=3)
    run("city")
    run("score", "--drop")  # an index another test built outlives its rows (not its table)
    out = run("score")
    reverse = f"{field_index_name('score')}_desc"
    assert f"Building {reverse}" in out and field_index_name("score") in out
    assert f"Building {field_index_name('city')}_desc" not in run("city", "--drop") + run("city")
    descending = listed(sort="-score")
    assert [c.name for c in descending] == ["High", "Low", "Blank"]  # missing values last
    shown = plan(listed(sort="-score")[:50])
    assert reverse in shown and "Sort Key" not in shown.split("Index Scan")[-1]
    assert "already indexed" in run("score")
    dropped = run("score", "--drop")
    assert reverse in dropped and field_index_name("score") in dropped
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'contact_trait_%' ORDER BY 1"
        )
        left = [row[0] for row in cursor.fetchall()]
    assert field_index_name("city") in left and f"{field_index_name('city')}_desc" not in left
    assert not [name for name in left if name.startswith(field_index_name("score"))]
    assert not Attribute.objects.get(pk=score.pk).indexed

"""Expression indexes on custom fields: created without blocking writes, dropped again.

A field's kind decides what the index holds (``Kind.index_expression``) and its filters and
sort compare exactly that expression, so the database can use the index. On PostgreSQL
the index is built ``CONCURRENTLY`` (writes go on meanwhile), which cannot run inside a
transaction: call these outside ``transaction.atomic``. A concurrent build that failed
leaves an invalid index behind; the next call drops and rebuilds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import connection
from django.db.models import Index

from contacts.errors import ContactInputError, FieldError
from contacts.fields import attribute_field
from contacts.models import Attribute, Contact

Progress = Callable[[str], None]


def field_index_name(key: str) -> str:
    """A stable index name within every database's limit (PostgreSQL: 63 bytes)."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"contact_trait_{key[:30]}_{digest}"


def field_index(attribute: Attribute) -> Index:
    field = attribute_field(attribute)
    expression = field.kind.index_expression(field)
    if expression is None:
        raise ContactInputError(
            [FieldError("indexed", field.label, f"a {field.kind.name} field cannot be indexed")]
        )
    return Index(expression, name=field_index_name(attribute.key))


def field_indexes(attribute: Attribute) -> list[Index]:
    """The field's index and, on PostgreSQL for a kind the list sorts by its index
    (``Kind.ordered_index``), the same expression descending with missing values last.

    The list sorts missing values last both ways (``Kind.sort``); PostgreSQL reads an
    ascending index backwards only as descending with missing values first, so without the
    second index a descending sort sorted every match ("City is Pune" by Score descending:
    44 ms against 1.6 ms at 500,000 contacts). SQLite walks its one index either way.
    """
    index = field_index(attribute)
    field = attribute_field(attribute)
    if connection.vendor != "postgresql" or not field.kind.ordered_index:
        return [index]
    (expression,) = index.expressions
    return [index, Index(expression.desc(nulls_last=True), name=_reverse_name(index.name))]


def _reverse_name(name: str) -> str:
    return f"{name}_desc"


def index_state(name: str) -> str:
    """ "valid", "invalid" (a failed concurrent build) or "missing"."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = %s",
                [name],
            )
            row = cursor.fetchone()
            return "missing" if row is None else ("valid" if row[0] else "invalid")
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
        return "valid" if cursor.fetchone() else "missing"


def field_index_create(attribute: Attribute, *, progress: Progress = lambda _: None) -> bool:
    """Index ``attribute``'s values and mark it indexed; False when it already was."""
    created = False
    for index in field_indexes(attribute):
        state = index_state(index.name)
        if state == "invalid":
            progress(f"Dropping the unfinished index {index.name} left by a failed build")
            _drop(index.name)
        elif state == "valid" and not _same_expression(index):
            progress(f"Rebuilding {index.name}: it holds another form of the field's expression")
            _drop(index.name)
            state = "missing"
        if state != "valid":
            progress(f"Building {index.name} over {_estimate()} contacts (writes go on)")
            _create(index)
            progress(f"Reading the spread of {attribute.key}'s values for the query planner")
            _analyze(index.name)
            created = True
    Attribute.objects.filter(pk=attribute.pk).update(indexed=True)
    progress(f"{attribute.key} is indexed" if created else f"{attribute.key} was already indexed")
    return created


def field_index_names(key: str) -> list[str]:
    """Every index a field may have (``field_indexes``): what dropping the field drops."""
    name = field_index_name(key)
    return [name, _reverse_name(name)]


def field_index_drop(attribute: Attribute, *, progress: Progress = lambda _: None) -> bool:
    """Drop ``attribute``'s index (if any) and mark it not indexed; False when it had none."""
    dropped = False
    for name in field_index_names(attribute.key):
        if index_state(name) != "missing":
            progress(f"Dropping {name}")
            _drop(name)
            dropped = True
    Attribute.objects.filter(pk=attribute.pk).update(indexed=False)
    progress(f"{attribute.key} is not indexed" if dropped else f"{attribute.key} had no index")
    return dropped


def _create(index: Index) -> None:
    # The editor only renders the statement: entering it would open a transaction (and on
    # SQLite switch off foreign keys), which neither database needs for one CREATE INDEX.
    editor = connection.schema_editor()
    options = {"concurrently": True} if connection.vendor == "postgresql" else {}
    with connection.cursor() as cursor:
        cursor.execute(str(index.create_sql(Contact, editor, **options)))


def _same_expression(index: Index) -> bool:
    """Whether the index holds the expression the filters now compare.

    SQLite uses an index only for the same expression, written the same way, and keeps the
    statement that created it; PostgreSQL compares expressions by what they mean.
    """
    if connection.vendor != "sqlite":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [index.name])
        (stored,) = cursor.fetchone()
    expected = str(index.create_sql(Contact, connection.schema_editor()))
    return " ".join(stored.split()) == " ".join(expected.split())


def _analyze(name: str) -> None:
    """Statistics on the new index's expression: without them both databases guess how
    many contacts a value matches, and may walk the wrong index for a filtered, sorted page
    (SQLite took 1.5 s instead of 3 ms for "City is Pune" sorted by Score at 500,000
    contacts). PostgreSQL samples the table; SQLite reads the one index."""
    target = Contact._meta.db_table if connection.vendor == "postgresql" else name
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(target)}")


def _drop(name: str) -> None:
    concurrently = " CONCURRENTLY" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX{concurrently} IF EXISTS {connection.ops.quote_name(name)}")


def _estimate() -> int:
    return Contact.objects.count()

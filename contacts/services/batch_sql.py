"""The batch writers' SQL: reads by a list of values, and inserts and updates of prepared rows.

The import's batch writer (``imports.py``) and the Track API's batch use these instead of the
ORM's ``bulk_create`` / ``filter(__in=...)``, which build, prepare and compile per row more
than the database's own work costs at 500,000 rows. On PostgreSQL the writes go through
``copy_writer`` (COPY into a staging table, then one statement per table); elsewhere they are
one ``executemany`` per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from contacts.selectors.rows import select_in
from contacts.services import copy_writer

__all__ = ["execute_many", "insert_returning_ids", "insert_rows", "select_in", "update_by_id"]


def insert_rows(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]], *, ignore_conflicts=False
) -> None:
    """INSERT prepared rows (values in ``columns``' order, already adapted for the database);
    ``ignore_conflicts`` skips those that hit a unique constraint."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        if ignore_conflicts:
            copy_writer.copy_insert_ignoring_conflicts(model, columns, rows)
        else:
            copy_writer.copy_insert(model, columns, rows)
        return
    execute_many(model, columns, rows, ignore_conflicts=ignore_conflicts)


def insert_returning_ids(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]], key: str
) -> dict[Any, int]:
    """INSERT prepared rows in their order; the new rows' ids by their ``key`` column (a
    unique one). A row that hits a unique constraint raises ``IntegrityError``."""
    if not rows:
        return {}
    if connection.vendor == "postgresql":
        return dict(copy_writer.copy_insert_returning(model, columns, rows, (key, "id")))
    execute_many(model, columns, rows)
    at = list(columns).index(key)
    return dict(select_in(model, (key, "id"), key, [row[at] for row in rows]))


def update_by_id(model: type, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE ``columns`` of the rows whose id ends each of ``rows``."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_writer.copy_update(model, columns, rows)
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{ops.quote_name(model._meta.get_field(c).column)} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)


def execute_many(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]], *, ignore_conflicts=False
) -> None:
    """INSERT prepared rows with one executemany.

    ``bulk_create`` builds and compiles a model instance per row, which costs more than the
    database's work at 500,000 rows; the values here are already adapted for the database.
    """
    if not rows:
        return

    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(model._meta.get_field(c).column) for c in columns)
    values = ", ".join(["%s"] * len(columns))
    suffix = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({values}){suffix}", rows)

"""Rows read by a list of values with one plain SQL statement (the batch writers' reads)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, transaction

from contacts.search_index import trigram_indexed


def select_in(
    model: type,
    columns: Sequence[str],
    column: str,
    values: Sequence[Any],
    *,
    order_by: str | None = None,
    lock: bool = False,
    equal: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The ``columns`` of the rows whose ``column`` is one of ``values``, as the driver gives
    them (no field converters); ``equal`` adds ``column = value`` conditions; ``lock`` adds FOR
    UPDATE where the database has it.

    ``filter(column__in=values)`` prepares every value through the field, one by one: for a
    batch's reads that cost as much as planning its rows. These values are already stored
    forms (E.164 phones, ids).
    """
    if not values:
        return []
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)

    def qualified(name: str) -> str:
        return f"{table}.{ops.quote_name(model._meta.get_field(name).column)}"

    names = ", ".join(qualified(name) for name in columns)
    if connection.vendor == "postgresql":
        # A join on the values as one array, so each is looked up in the column's b-tree
        # index. Written as ``IN (...)`` (or ``= ANY(...)``) the planner may pick the phone's
        # trigram index (GIN) for the equality instead: 30 s a batch once its pending list
        # had grown, against 3 ms.
        field = model._meta.get_field(column)
        sql = (
            f"SELECT {names} FROM {table} JOIN unnest(%s::{field.cast_db_type(connection)}[])"
            f" AS batch (value) ON {qualified(column)} = batch.value WHERE TRUE"
        )
        params: list[Any] = [list(dict.fromkeys(values))]
    else:
        placeholders = ", ".join(["%s"] * len(values))
        sql = f"SELECT {names} FROM {table} WHERE {qualified(column)} IN ({placeholders})"
        params = list(values)
    for name, value in (equal or {}).items():
        sql += f" AND {qualified(name)} = %s"
        params.append(value)
    if order_by:
        sql += f" ORDER BY {qualified(order_by)}"
    if lock and connection.features.has_select_for_update:
        sql += f" FOR UPDATE OF {table}" if connection.vendor == "postgresql" else " FOR UPDATE"
    db_column = model._meta.get_field(column).column
    if connection.vendor != "postgresql" or not trigram_indexed(model._meta.db_table, db_column):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    # Even joined, the planner may probe the column's trigram index for each value (its
    # costing of GIN is optimistic): 21 ms a probe, 10.8 s for a batch of 500 phones, once
    # an upload had filled the index's pending list, against 1 ms through the b-tree. A GIN
    # index is only read through bitmap scans, so the statement is planned without them.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute("SET LOCAL enable_bitmapscan = on")
        return rows

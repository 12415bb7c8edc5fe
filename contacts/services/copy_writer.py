"""PostgreSQL's set-based writes for the import's batch writer: COPY into a staging table,
then one statement per table.

``executemany`` sends one INSERT or UPDATE per row: on PostgreSQL each is parsed, bound and
run by the server on its own, and every value is quoted in the client. Here a batch's rows
go in with one ``COPY ... FROM STDIN`` (psycopg 3's ``cursor.copy()``) into a temporary
table of the session, and one statement carries them into the real table:
``INSERT ... SELECT ... RETURNING`` for new contacts, ``UPDATE ... FROM`` for changed ones,
``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` for tag links. Activity entries, which can
never conflict, are copied straight into their table.

The statements run inside the batch's transaction (a savepoint): a failure rolls the staged
rows back with everything else, and the staging tables are emptied after each use, so a
later batch of the same transaction starts from empty ones. A unique violation (a contact
inserted concurrently) is raised as Django's ``IntegrityError``, as ``executemany`` raises
it, so the batch is retried the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

STAGE_PREFIX = "contacthub_import_stage_"


def _column(model: type, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _stage(cursor: Any, model: type, purpose: str, columns: Sequence[str]) -> str:
    """The session's staging table for ``purpose`` with ``columns`` of ``model``'s table (their
    types, no constraints), plus ``ord``: the row's place in the batch. Created on first use
    (a temporary table lives as long as the connection)."""
    stage = connection.ops.quote_name(f"{STAGE_PREFIX}{model._meta.db_table}_{purpose}")
    names = ", ".join(_column(model, c) for c in columns)
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS"
        f" SELECT {names}, 0 AS ord FROM {_table(model)} WITH NO DATA"
    )
    return stage


def _copy(cursor: Any, target: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` into ``target``'s ``columns`` (already quoted) in one stream."""
    sql = f"COPY {target} ({', '.join(columns)}) FROM STDIN"
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def _staged(cursor: Any, model: type, purpose: str, columns: Sequence[str], rows: list) -> str:
    stage = _stage(cursor, model, purpose, columns)
    quoted = [_column(model, c) for c in columns]
    _copy(cursor, stage, [*quoted, "ord"], ((*row, n) for n, row in enumerate(rows)))
    return stage


def copy_insert(model: type, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (values in ``columns``' order) with one COPY; for tables whose rows
    cannot conflict (activity entries)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        _copy(cursor, _table(model), [_column(model, c) for c in columns], rows)


def copy_insert_ignoring_conflicts(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT ``rows`` through the staging table, skipping those that hit a unique
    constraint (``ON CONFLICT DO NOTHING``: a tag link someone else just made)."""
    if not rows:
        return
    names = ", ".join(_column(model, c) for c in columns)
    with connection.cursor() as cursor:
        stage = _staged(cursor, model, "links", columns, rows)
        cursor.execute(
            f"INSERT INTO {_table(model)} ({names}) SELECT {names} FROM {stage}"
            " ORDER BY ord ON CONFLICT DO NOTHING"
        )
        cursor.execute(f"DELETE FROM {stage}")


def copy_insert_returning(
    model: type, columns: Sequence[str], rows: list[tuple[Any, ...]], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """INSERT ``rows`` in their order (ids follow it) and return ``returning`` of each new
    row: one COPY and one ``INSERT ... SELECT ... RETURNING``. A unique violation raises
    ``IntegrityError`` and inserts nothing."""
    if not rows:
        return []
    names = ", ".join(_column(model, c) for c in columns)
    back = ", ".join(_column(model, c) for c in returning)
    with connection.cursor() as cursor:
        stage = _staged(cursor, model, "new", columns, rows)
        cursor.execute(
            f"INSERT INTO {_table(model)} ({names}) SELECT {names} FROM {stage}"
            f" ORDER BY ord RETURNING {back}"
        )
        returned = cursor.fetchall()
        cursor.execute(f"DELETE FROM {stage}")
    return returned


def copy_update(model: type, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE ``columns`` of the rows whose id ends each of ``rows`` (values in ``columns``'
    order, then the id): one COPY and one ``UPDATE ... FROM`` the staging table. An id named
    twice ends with the values of its last row, as with ``executemany``."""
    if not rows:
        return
    table = _table(model)
    sets = ", ".join(f"{_column(model, c)} = stage.{_column(model, c)}" for c in columns)
    with connection.cursor() as cursor:
        stage = _staged(cursor, model, "changed", [*columns, "id"], rows)
        # A row named twice takes its last values, as one UPDATE a row after the other would.
        latest = f"(SELECT DISTINCT ON (id) * FROM {stage} ORDER BY id, ord DESC)"
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM {latest} AS stage WHERE {table}.id = stage.id"
        )
        cursor.execute(f"DELETE FROM {stage}")

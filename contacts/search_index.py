"""The trigram index behind the list's search box, on either database.

PostgreSQL: pg_trgm GIN indexes on ``UPPER(name)``, ``UPPER(email)``, ``UPPER(user_id)``
(the exact expressions Django's ``icontains`` compares) and on ``phone`` (``contains``).

SQLite 3.34+: an FTS5 table with the ``trigram`` tokenizer over the same four columns,
reading its text from ``contacts_contact`` (external content). Triggers on the contacts
table keep it in step, so every write (web, API, import, bulk action, merge, undo, raw
SQL) updates it without the writers knowing. SQLite rebuilds a table for some schema
changes and drops its triggers then; ``search_index_ensure`` runs after every migrate and
puts back (and refills) whatever is missing.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.base.base import BaseDatabaseWrapper

# Shorter queries have no trigram: the index cannot serve them.
MIN_INDEXED_LENGTH = 3

FTS_TABLE = "contact_search"
CONTACT_TABLE = "contacts_contact"
COLUMNS = ("name", "email", "user_id", "phone")

PG_INDEXES = {
    "contact_name_trgm": 'UPPER("name")',
    "contact_email_trgm": 'UPPER("email")',
    "contact_user_id_trgm": 'UPPER("user_id")',
    "contact_phone_trgm": '"phone"',
}

_cols = ", ".join(COLUMNS)
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)
_insert = f"INSERT INTO {FTS_TABLE}(rowid, {_cols}) VALUES (new.id, {_new});"
_delete = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_cols}) VALUES ('delete', old.id, {_old});"
SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_ai": f"AFTER INSERT ON {CONTACT_TABLE} BEGIN {_insert} END",
    f"{FTS_TABLE}_ad": f"AFTER DELETE ON {CONTACT_TABLE} BEGIN {_delete} END",
    f"{FTS_TABLE}_au": (
        f"AFTER UPDATE OF {_cols} ON {CONTACT_TABLE} BEGIN {_delete} {_insert} END"
    ),
}


def trigram_indexed(table: str, column: str) -> bool:
    """Whether a trigram index on PostgreSQL covers ``table``'s ``column``."""
    return table == CONTACT_TABLE and column in COLUMNS


def sqlite_has_trigram() -> bool:
    """FTS5's trigram tokenizer arrived in SQLite 3.34."""
    return sqlite3.sqlite_version_info >= (3, 34, 0)


def uses_fts(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "sqlite" and sqlite_has_trigram()


def search_index_ensure(connection: BaseDatabaseWrapper) -> None:
    """Create whatever part of the search index is missing; idempotent (the migration)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name, expression in PG_INDEXES.items():
                cursor.execute(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{CONTACT_TABLE}" '
                    f"USING gin ({expression} gin_trgm_ops)"
                )
    elif uses_fts(connection):
        _sqlite_ensure(connection)


def search_index_repair(connection: BaseDatabaseWrapper) -> None:
    """After a migrate: put back SQLite triggers a table rebuild dropped (and refill).

    Does nothing where the index was never created (a database migrated back before it).
    """
    if uses_fts(connection) and FTS_TABLE in connection.introspection.table_names():
        _sqlite_ensure(connection)


def _sqlite_ensure(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE %s",
            [f"{FTS_TABLE}%"],
        )
        present = {row[0] for row in cursor.fetchall()}
        missing = [name for name in (FTS_TABLE, *SQLITE_TRIGGERS) if name not in present]
        if not missing:
            return
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_cols}, "
            f"content='{CONTACT_TABLE}', content_rowid='id', tokenize='trigram')"
        )
        for name, body in SQLITE_TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        # Writes made while a trigger was missing are not in the index: refill it whole.
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def search_index_drop(connection: BaseDatabaseWrapper) -> None:
    """Undo ``search_index_ensure`` (the migration's reverse)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in PG_INDEXES:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        elif uses_fts(connection):
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")

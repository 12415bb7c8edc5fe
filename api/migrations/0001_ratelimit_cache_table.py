"""The table of the "ratelimit" cache (settings.CACHES), made as ``createcachetable`` makes it.

A migration rather than a step of ``make setup``, so that every way of creating a database
(``migrate``, the test runner, ``serve-prod``) has it. It is created even when Redis holds the
limits instead: an empty table costs nothing and switching back needs no extra command.
"""

from django.core.management import call_command
from django.db import migrations

RATE_LIMIT_TABLE = "api_ratelimit_cache"


def create_table(apps, schema_editor):
    # Skips a table that exists already (made by hand with createcachetable, say).
    call_command(
        "createcachetable",
        RATE_LIMIT_TABLE,
        database=schema_editor.connection.alias,
        verbosity=0,
    )


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(RATE_LIMIT_TABLE)}")


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [migrations.RunPython(create_table, drop_table)]

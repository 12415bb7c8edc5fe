"""Rate-limit counts move from the "ratelimit" cache table to ``RateWindow`` (one statement
per request, see api/throttling.py). On PostgreSQL the new table is UNLOGGED: counts lost in
a crash are harmless, a write-ahead-log flush on every API request is not."""

from django.core.management import call_command
from django.db import migrations, models

OLD_CACHE_TABLE = "api_ratelimit_cache"


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE api_ratewindow SET UNLOGGED")


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(OLD_CACHE_TABLE)}")


def create_cache_table(apps, schema_editor):
    call_command(
        "createcachetable", OLD_CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_ratelimit_cache_table"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateWindow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("slot", models.BigIntegerField()),
                ("used", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("name", "slot"), name="rate_window_unique")
                ],
            },
        ),
        migrations.RunPython(unlogged, migrations.RunPython.noop),
        migrations.RunPython(drop_cache_table, create_cache_table),
    ]

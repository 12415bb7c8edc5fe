from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from contacts.search_index import search_index_drop, search_index_ensure


def forwards(apps, schema_editor):
    search_index_ensure(schema_editor.connection)


def backwards(apps, schema_editor):
    search_index_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_bulk_action_resumable_job")]

    operations = [
        # A no-op on SQLite.
        TrigramExtension(),
        migrations.RunPython(forwards, backwards),
    ]

# BulkAction becomes a jobs.ResumableJob, and its contacts move from the JSON column
# contact_ids to the table BulkActionContact (one row a contact, in the same order).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


CHUNK = 2000


def ids_to_rows(apps, schema_editor):
    BulkAction = apps.get_model("contacts", "BulkAction")
    BulkActionContact = apps.get_model("contacts", "BulkActionContact")
    for action in BulkAction.objects.exclude(contact_ids=[]).only("pk", "contact_ids").iterator():
        ids = action.contact_ids or []
        for start in range(0, len(ids), CHUNK):
            BulkActionContact.objects.bulk_create(
                BulkActionContact(action_id=action.pk, position=start + offset, contact_id=pk)
                for offset, pk in enumerate(ids[start : start + CHUNK])
            )


def rows_to_ids(apps, schema_editor):
    BulkAction = apps.get_model("contacts", "BulkAction")
    BulkActionContact = apps.get_model("contacts", "BulkActionContact")
    for action in BulkAction.objects.only("pk").iterator():
        rows = BulkActionContact.objects.filter(action_id=action.pk).order_by("position")
        action.contact_ids = list(rows.values_list("contact_id", flat=True))
        action.save(update_fields=["contact_ids"])


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0004_remove_apiratelimitwindow'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulkActionContact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField()),
                ('contact_id', models.BigIntegerField()),
            ],
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='lease',
            field=models.CharField(blank=True, help_text='The run that owns the job; empty when none does.', max_length=32),
        ),
        migrations.AlterField(
            model_name='bulkaction',
            name='attempts',
            field=models.PositiveIntegerField(default=0, help_text='Runs that claimed the job.'),
        ),
        migrations.AlterField(
            model_name='bulkaction',
            name='done',
            field=models.PositiveIntegerField(default=0, help_text='Units of work committed so far.'),
        ),
        migrations.AlterField(
            model_name='bulkaction',
            name='status',
            field=models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('completed', 'Completed'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=10),
        ),
        migrations.AddIndex(
            model_name='bulkaction',
            index=models.Index(fields=['status', 'heartbeat_at'], name='contacts_bulkaction_stale'),
        ),
        migrations.AddField(
            model_name='bulkactioncontact',
            name='action',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contacts.bulkaction'),
        ),
        migrations.AddConstraint(
            model_name='bulkactioncontact',
            constraint=models.UniqueConstraint(fields=('action', 'position'), name='bulkactioncontact_position_unique'),
        ),
        migrations.RunPython(ids_to_rows, rows_to_ids, elidable=True),
        migrations.RemoveField(
            model_name='bulkaction',
            name='contact_ids',
        ),
    ]

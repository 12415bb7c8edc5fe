# UploadJob becomes a jobs.ResumableJob: rows_done/rows_total are renamed (data kept).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bulkupload', '0002_upload_file_removed_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(
            model_name='uploadjob',
            old_name='rows_total',
            new_name='total',
        ),
        migrations.RenameIndex(
            model_name='uploadjob',
            new_name='bulkupload_uploadjob_stale',
            old_name='uploadjob_status_idx',
        ),
        migrations.RenameField(
            model_name='uploadjob',
            old_name='rows_done',
            new_name='done',
        ),
        migrations.AlterField(
            model_name='uploadjob',
            name='done',
            field=models.PositiveIntegerField(default=0, help_text='Units of work committed so far.'),
        ),
        migrations.AlterField(
            model_name='uploadjob',
            name='attempts',
            field=models.PositiveIntegerField(default=0, help_text='Runs that claimed the job.'),
        ),
        migrations.AlterField(
            model_name='uploadjob',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='uploadjob',
            name='lease',
            field=models.CharField(blank=True, help_text='The run that owns the job; empty when none does.', max_length=32),
        ),
    ]

from django.apps import AppConfig


class BulkUploadConfig(AppConfig):
    name = "bulkupload"
    verbose_name = "Bulk upload"

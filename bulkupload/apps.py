from django.apps import AppConfig


class BulkUploadConfig(AppConfig):
    name = "bulkupload"
    verbose_name = "Bulk upload"

    def ready(self) -> None:
        from bulkupload.importing import UPLOADS
        from bulkupload.undoing import UPLOAD_UNDOS
        from jobs.registry import job_kind_register

        job_kind_register(UPLOADS)
        job_kind_register(UPLOAD_UNDOS)

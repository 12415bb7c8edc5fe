from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts.roles import ensure_groups_after_migrate
        from contacts.services.bulk import BULK_ACTIONS
        from contacts.services.duplicates import DUPLICATE_SCANS
        from jobs.registry import job_kind_register

        job_kind_register(BULK_ACTIONS)
        job_kind_register(DUPLICATE_SCANS)

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(ensure_groups_after_migrate, sender=self)

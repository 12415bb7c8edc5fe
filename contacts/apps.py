from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from contacts.search_index import search_index_repair


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts.roles import ensure_groups_after_migrate
        from contacts.services.bulk import BULK_ACTIONS
        from contacts.services.duplicates import DUPLICATE_SCANS
        from contacts.services.field_changes import FIELD_CHANGES
        from jobs.registry import job_kind_register

        job_kind_register(BULK_ACTIONS)
        job_kind_register(DUPLICATE_SCANS)
        job_kind_register(FIELD_CHANGES)

        # After auth's own post_migrate handler has created the permissions.
        post_migrate.connect(ensure_groups_after_migrate, sender=self)
        post_migrate.connect(repair_search_index_after_migrate, sender=self)


def repair_search_index_after_migrate(using: str = "default", **kwargs: object) -> None:
    search_index_repair(connections[using])

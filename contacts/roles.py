"""The three staff roles (groups) and the permissions each one has.

The groups are created by a data migration and made whole again after every ``migrate`` or
``flush`` (post_migrate), so that a role never loses a permission the views check.
"""

from __future__ import annotations

from typing import Any

VIEWERS = [
    "contacts.view_contact",
    "contacts.view_attribute",
    "contacts.view_tag",
    "contacts.view_activity",
    "contacts.view_savedview",
    "contacts.add_savedview",
    "contacts.change_savedview",
    "contacts.delete_savedview",
]
EDITORS = [
    *VIEWERS,
    "contacts.add_contact",
    "contacts.change_contact",
    "contacts.add_attribute",
    "contacts.add_tag",
    "contacts.upload_contacts",
]
MANAGERS = [
    *EDITORS,
    "contacts.delete_contact",
    "contacts.change_attribute",
    "contacts.delete_attribute",
    "contacts.change_tag",
    "contacts.delete_tag",
    "contacts.view_apikey",
    "contacts.add_apikey",
    "contacts.change_apikey",
    "contacts.delete_apikey",
]
GROUPS = {"Viewers": VIEWERS, "Editors": EDITORS, "Managers": MANAGERS}


def ensure_groups(apps: Any) -> None:
    """Create the groups and give them their permissions (idempotent).

    ``apps`` is a migration's historical registry or the global one.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations ran; the groups need them now.
        loaded = getattr(app_config, "models_module", None)
        app_config.models_module = loaded or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = loaded
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            wanted.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*wanted)


def ensure_groups_after_migrate(sender: Any, apps: Any = None, **kwargs: Any) -> None:
    from django.apps import apps as global_apps

    ensure_groups(apps or global_apps)

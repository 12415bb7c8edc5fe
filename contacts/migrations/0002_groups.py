"""The three staff roles as groups, with the permissions the views check."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEWERS = [
    "contacts.view_contact", "contacts.view_attribute", "contacts.view_tag",
    "contacts.view_activity", "contacts.view_savedview", "contacts.add_savedview",
    "contacts.change_savedview", "contacts.delete_savedview",
]
EDITORS = VIEWERS + [
    "contacts.add_contact", "contacts.change_contact", "contacts.add_attribute",
    "contacts.add_tag", "contacts.upload_contacts",
]
MANAGERS = EDITORS + [
    "contacts.delete_contact", "contacts.change_attribute", "contacts.delete_attribute",
    "contacts.change_tag", "contacts.delete_tag", "contacts.view_apikey",
    "contacts.add_apikey", "contacts.change_apikey", "contacts.delete_apikey",
]
GROUPS = {"Viewers": VIEWERS, "Editors": EDITORS, "Managers": MANAGERS}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]

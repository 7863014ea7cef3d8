"""Editors and chief editors edit a city's other names (the names inline of the city
admin), as README says: without these permissions only superusers saw the inline.

Editors add and change names, chief editors also delete them (editors delete nothing).
An editor's change to a published city's names waits for review like its fields.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Editors": ["add", "change", "view"],
    "Chief editors": ["add", "change", "view", "delete"],
}


def grant(apps, schema_editor):
    db = schema_editor.connection.alias
    config = apps.get_app_config("cities")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0, using=db)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in GRANTS.items():
        permissions = Permission.objects.using(db).filter(
            content_type__app_label="cities",
            codename__in=[f"{action}_cityname" for action in actions],
        )
        for group in Group.objects.using(db).filter(name=name):
            group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(
        content_type__app_label="cities", codename__endswith="_cityname"
    )
    for group in Group.objects.using(db).filter(name__in=GRANTS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0010_i12_merge_i13"),
        ("cities", "0006_i12_merge_i14"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

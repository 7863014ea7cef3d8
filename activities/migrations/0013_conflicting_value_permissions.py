"""Editors and chief editors record what other sources say (the conflicting values
inline of a twinning, a membership or an agreement party), as README says: without
these permissions only superusers saw the inline.

Editors add and change them, chief editors also delete them (editors delete nothing).
An editor's change on a published record waits for review like the record's own fields
(they are its `review_children`).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Editors": ["add", "change", "view"],
    "Chief editors": ["add", "change", "view", "delete"],
}
CODENAMES = [f"{action}_conflictingvalue" for action in ("add", "change", "view", "delete")]


def grant(apps, schema_editor):
    db = schema_editor.connection.alias
    config = apps.get_app_config("activities")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0, using=db)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in GRANTS.items():
        permissions = Permission.objects.using(db).filter(
            content_type__app_label="activities",
            codename__in=[f"{action}_conflictingvalue" for action in actions],
        )
        for group in Group.objects.using(db).filter(name=name):
            group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(
        content_type__app_label="activities", codename__in=CODENAMES
    )
    for group in Group.objects.using(db).filter(name__in=GRANTS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("activities", "0012_merge_i12imp_i13fast")]

    operations = [migrations.RunPython(grant, revoke)]

"""Chief editors may unlock a locked-out login: they see the admin's access attempts
(django-axes) and delete the ones that lock an account, as the lockout page says."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_accessattempt", "delete_accessattempt"]


def grant(apps, schema_editor):
    db = schema_editor.connection.alias
    config = apps.get_app_config("axes")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0, using=db)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(db).filter(
        content_type__app_label="axes", codename__in=CODENAMES
    )
    for group in Group.objects.using(db).filter(name="Chief editors"):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(
        content_type__app_label="axes", codename__in=CODENAMES
    )
    for group in Group.objects.using(db).filter(name="Chief editors"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("citydiplo", "0001_i12_pending_changes"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

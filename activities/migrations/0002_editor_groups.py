"""The two editorial roles.

Editors add and change catalogue records (and their sources and themes) and see them
all; they cannot delete, publish, or touch users and groups. Chief editors may also
delete and publish. Permissions are created here first, so the migration works on a
fresh database before Django's post_migrate signal would create them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_GROUP = "Editors"
CHIEF_GROUP = "Chief editors"

CATALOGUE_MODELS = {
    "cities": ["city"],
    "activities": [
        "source",
        "theme",
        "network",
        "membership",
        "agreement",
        "agreementparty",
        "twinning",
        "activity",
    ],
}
PUBLISHABLE = {"city", "network", "membership", "agreement", "twinning", "activity"}


def codenames(actions):
    for app_label, model_names in CATALOGUE_MODELS.items():
        for model_name in model_names:
            for action in actions:
                if action == "publish" and model_name not in PUBLISHABLE:
                    continue
                yield app_label, f"{action}_{model_name}"


def create_groups(apps, schema_editor):
    db = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=db)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(actions):
        found = []
        for app_label, codename in codenames(actions):
            found.append(
                Permission.objects.using(db).get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        return found

    editors, _ = Group.objects.using(db).get_or_create(name=EDITOR_GROUP)
    editors.permissions.set(permissions(["add", "change", "view"]))
    chiefs, _ = Group.objects.using(db).get_or_create(name=CHIEF_GROUP)
    chiefs.permissions.set(permissions(["add", "change", "view", "delete", "publish"]))


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=[EDITOR_GROUP, CHIEF_GROUP]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_initial"),
        ("cities", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

"""The catalogue version table and the triggers that raise it on every write to a
catalogue table (see citydiplo/versioning.py)."""

from django.db import migrations

from citydiplo import versioning


def install(apps, schema_editor):
    versioning.create_version_table(schema_editor)
    versioning.install_triggers(schema_editor, versioning.tracked_tables(apps))


def uninstall(apps, schema_editor):
    versioning.drop_triggers(schema_editor, versioning.tracked_tables(apps))
    versioning.drop_version_table(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0003_theme_history"),
        ("cities", "0003_search_extensions_and_indexes"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]

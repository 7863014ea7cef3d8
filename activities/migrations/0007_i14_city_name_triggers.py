"""The catalogue-version triggers on the new table of city names, and again on the
city table, which migration cities 0005 recreated on SQLite (dropping its triggers)."""

from django.db import migrations

from citydiplo import versioning


def install(apps, schema_editor):
    versioning.install_triggers(schema_editor, versioning.tracked_tables(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0006_i11code_agreement_parties_reported"),
        ("cities", "0005_i14_city_names"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]

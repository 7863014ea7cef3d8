"""Search on PostgreSQL: pg_trgm and trigram GIN indexes on city names, and a GIN
full-text index; nothing on SQLite, whose search falls back to icontains.

The index expressions match the SQL Django writes for `icontains` (UPPER(col::text)),
for `TrigramSimilar` on the name, and for SearchVector("name", "alternate_names",
config="simple") in CityQuerySet.search, so the planner can use them.
"""

from django.db import migrations

INDEXES = {
    "city_name_trgm": 'USING gin ("name" gin_trgm_ops)',
    "city_name_upper_trgm": 'USING gin (UPPER("name"::text) gin_trgm_ops)',
    "city_altnames_upper_trgm": 'USING gin (UPPER("alternate_names"::text) gin_trgm_ops)',
    "city_search_vector": (
        "USING gin (to_tsvector('simple'::regconfig, "
        "COALESCE(\"name\", '') || ' ' || COALESCE(\"alternate_names\", '')))"
    ),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "cities_city" {definition}')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("cities", "0002_city_history")]

    operations = [migrations.RunPython(create, drop, elidable=False)]

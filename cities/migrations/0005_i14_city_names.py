"""Every name a place goes by, in its own table (CityName), searchable by index.

The old free-text field `City.alternate_names` (one name a line) becomes rows of
CityName, beside a row for each city's main name. The normalised form of each name
(`folded`) is indexed: on SQLite by an FTS5 trigram table kept in step with the table
by triggers (so every write, bulk or raw, updates it); on PostgreSQL by a pg_trgm GIN
index (contains) and a pattern btree index (starts with).
"""

import django.db.models.deletion
from django.db import migrations, models

from cities.names import normalise


FTS = "cities_cityname_fts"
SQLITE = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(folded, content='cities_cityname', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON cities_cityname BEGIN "
    f"INSERT INTO {FTS}(rowid, folded) VALUES (new.id, new.folded); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON cities_cityname BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE ON cities_cityname BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, folded) VALUES ('delete', old.id, old.folded); "
    f"INSERT INTO {FTS}(rowid, folded) VALUES (new.id, new.folded); END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS "cityname_folded_trgm" ON "cities_cityname" '
    # fastupdate off: after a bulk import, a pending list of new entries made each
    # search scan it (10 ms instead of 0.3 ms) until the next VACUUM.
    'USING gin ("folded" gin_trgm_ops) WITH (fastupdate = off)',
    'CREATE INDEX IF NOT EXISTS "cityname_folded_pattern" ON "cities_cityname" '
    '("folded" varchar_pattern_ops)',
]
POSTGRESQL_DROP = [
    'DROP INDEX IF EXISTS "cityname_folded_trgm"',
    'DROP INDEX IF EXISTS "cityname_folded_pattern"',
]


def create_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor, []):
        schema_editor.execute(statement)


def drop_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}.get(vendor, []):
        schema_editor.execute(statement)


def names_to_rows(apps, schema_editor):
    """A row per main name, and per line of the old alternate names."""
    City = apps.get_model("cities", "City")
    CityName = apps.get_model("cities", "CityName")
    rows = []
    for pk, name, others in City.objects.values_list("pk", "name", "alternate_names").iterator():
        seen = set()
        for position, spelling in enumerate([name, *others.splitlines()]):
            spelling = " ".join(spelling.split())[:200]
            folded = normalise(spelling)
            if folded and folded not in seen and spelling:
                seen.add(folded)
                source = "main" if position == 0 else "import"
                rows.append(CityName(city_id=pk, name=spelling, folded=folded, source=source))
    CityName.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def rows_to_names(apps, schema_editor):
    City = apps.get_model("cities", "City")
    CityName = apps.get_model("cities", "CityName")
    others = {}
    for city_id, name in CityName.objects.exclude(source="main").values_list("city_id", "name"):
        others.setdefault(city_id, []).append(name)
    cities = list(City.objects.filter(pk__in=others))
    for city in cities:
        city.alternate_names = "\n".join(others[city.pk])
    City.objects.bulk_update(cities, ["alternate_names"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0004_i11code_wikidata_id_validator"),
    ]

    operations = [
        migrations.CreateModel(
            name="CityName",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("folded", models.CharField(editable=False, max_length=200)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("main", "Main name"),
                            ("geonames", "GeoNames"),
                            ("import", "Imported list"),
                            ("editor", "Editor"),
                        ],
                        default="editor",
                        max_length=10,
                    ),
                ),
                (
                    "city",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="names",
                        to="cities.city",
                    ),
                ),
            ],
            options={
                "verbose_name": "name",
                "verbose_name_plural": "names",
                "ordering": ["city", "name"],
                "indexes": [models.Index(fields=["folded"], name="cityname_folded_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("city", "name"), name="cityname_city_name_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("folded", ""), _negated=True),
                        name="cityname_folded_not_empty",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("source__in", ["main", "geonames", "import", "editor"])
                        ),
                        name="cityname_source_valid",
                    ),
                ],
            },
        ),
        migrations.RunPython(names_to_rows, rows_to_names, elidable=False),
        migrations.RemoveField(
            model_name="city",
            name="alternate_names",
        ),
        migrations.RemoveField(
            model_name="historicalcity",
            name="alternate_names",
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]

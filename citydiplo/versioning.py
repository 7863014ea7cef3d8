"""The catalogue's version: a number the database itself raises on every write to a
catalogue table.

Whole public pages are cached under it (citydiplo/pagecache.py), so a cached page never
outlives the data it was made from.
Triggers, not Django signals, raise it, so every way of writing counts: admin saves,
imports, restores, `QuerySet.update()`, `bulk_create()`, raw SQL, a TRUNCATE.

The number lives in a one-row table that no model owns, so `flush` and backups leave it
alone. It changes inside the writing transaction: other connections see the new number
at the same moment as the new data, never before.

- SQLite: a trigger per table and per kind of write, for each row (SQLite has no
  statement triggers). SQLite allows one writer at a time, so the row never contends.
- PostgreSQL: one statement trigger per table (insert, update, delete, truncate). The
  row is locked from a transaction's first catalogue write until it commits, so writing
  transactions follow each other; a catalogue's editors and imports write in short
  transactions, and the lock costs them nothing measurable. The trigger runs BEFORE the
  statement, so a transaction takes the version lock before it locks any catalogue row:
  two writers can wait for each other but never deadlock over it.

The triggers are (re)installed after every `migrate` (and `flush`), by a post_migrate
handler (`install_after_migrate`, connected in citydiplo/apps.py), on every table of
every model of the catalogue's apps and their many-to-many tables. So a new catalogue
model, or a migration that recreates a table on SQLite (most AlterField/RemoveField
operations, which drop that table's triggers), needs no hand-written step.
tests/test_page_cache.py fails if any tracked table lacks its triggers.
"""

from django.apps import apps as global_apps
from django.db import connection, connections

VERSION_TABLE = "citydiplo_catalogue_version"
TRIGGER_PREFIX = "catalogue_version"
PG_FUNCTION = "citydiplo_raise_catalogue_version"
TRACKED_APPS = ("cities", "activities")
SQLITE_EVENTS = ("insert", "update", "delete")


def tracked_tables(apps, labels=TRACKED_APPS):
    """The tables whose rows public pages show: every model of the catalogue's apps,
    their many-to-many link tables included, history tables left out (no public page
    reads them, and every history row comes with a change to a tracked table)."""
    tables = set()
    for label in labels:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.model_name.startswith("historical"):
                continue
            if model._meta.managed and not model._meta.proxy:
                tables.add(model._meta.db_table)
    return sorted(tables)


def trigger_names(table):
    if connection.vendor == "sqlite":
        return [f"{TRIGGER_PREFIX}_{table}_{event}" for event in SQLITE_EVENTS]
    return [f"{TRIGGER_PREFIX}_{table}"]


def create_version_table(schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE TABLE {quote(VERSION_TABLE)} (id integer PRIMARY KEY, number bigint NOT NULL)"
    )
    schema_editor.execute(f"INSERT INTO {quote(VERSION_TABLE)} (id, number) VALUES (1, 1)")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE {quote(VERSION_TABLE)} SET number = number + 1 WHERE id = 1;
                RETURN NULL;
            END $$"""
        )


def drop_version_table(schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(VERSION_TABLE)}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")


def install_triggers(schema_editor, tables):
    """(Re)create the triggers on `tables`; safe to run again."""
    quote = schema_editor.quote_name
    bump = f"UPDATE {quote(VERSION_TABLE)} SET number = number + 1 WHERE id = 1"
    for table in tables:
        drop_triggers(schema_editor, [table])
        if schema_editor.connection.vendor == "sqlite":
            for event in SQLITE_EVENTS:
                name = quote(f"{TRIGGER_PREFIX}_{table}_{event}")
                schema_editor.execute(
                    f"CREATE TRIGGER {name} AFTER {event.upper()} ON {quote(table)} "
                    f"BEGIN {bump}; END"
                )
        else:
            name = quote(f"{TRIGGER_PREFIX}_{table}")
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )


def drop_triggers(schema_editor, tables):
    quote = schema_editor.quote_name
    for table in tables:
        if schema_editor.connection.vendor == "sqlite":
            for event in SQLITE_EVENTS:
                name = quote(f"{TRIGGER_PREFIX}_{table}_{event}")
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            name = quote(f"{TRIGGER_PREFIX}_{table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {quote(table)}")


class _Executor:
    """What install_triggers needs of a schema editor, on a plain connection (a
    post_migrate handler may run inside a transaction, where SQLite's schema editor
    refuses to start)."""

    def __init__(self, connection):
        self.connection = connection
        self.quote_name = connection.ops.quote_name

    def execute(self, sql):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


def install_after_migrate(sender, using="default", **kwargs):
    """post_migrate: (re)install the triggers on the tables of a catalogue app."""
    if sender.label not in TRACKED_APPS:
        return
    database = connections[using]
    existing = set(database.introspection.table_names())
    if VERSION_TABLE not in existing:  # migrated backwards past the version table
        return
    tables = [t for t in tracked_tables(global_apps, [sender.label]) if t in existing]
    install_triggers(_Executor(database), tables)


def installed_triggers():
    """Names of the version triggers present in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{TRIGGER_PREFIX}%"],
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                [f"{TRIGGER_PREFIX}%"],
            )
        return {row[0] for row in cursor.fetchall()}


def catalogue_version():
    """The current version number: one primary-key read."""
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(VERSION_TABLE)
        cursor.execute(f"SELECT number FROM {table} WHERE id = 1")
        return cursor.fetchone()[0]

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from simple_history.models import HistoricalChanges

from tests.records import load_catalogue_sample

PROJECT_APPS = ["cities", "activities"]


def test_no_migration_is_missing(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        raise AssertionError(f"Missing migrations:\n{out.getvalue()}") from exc


def latest_reversible_migrations():
    """(app, latest migration, its parent) for each app whose latest migration has a parent."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for app in PROJECT_APPS:
        leaf = loader.graph.leaf_nodes(app)[0]
        parents = [p for p in loader.graph.node_map[leaf].parents if p.key[0] == app]
        if parents:
            found.append((app, leaf[1], parents[0].key[1]))
    return found


def row_counts():
    """Rows of the catalogue's own models. History tables are left out: reversing the
    migration that creates one drops it, and its rows, by design; so are bookkeeping
    tables whose creating migration is the latest (what load_catalogue last wrote)."""
    return {
        model._meta.label: model._default_manager.count()
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if not issubclass(model, HistoricalChanges) and model._meta.label not in BOOKKEEPING
    }


BOOKKEEPING = {"activities.LoadedRecord"}


@pytest.mark.django_db(transaction=True)
def test_migrations_reverse_and_reapply_on_the_catalogue_without_losing_data(tmp_path):
    """The latest migration of each app goes back and forward on real records (a slice
    of the catalogue with every kind of record: tests/records.py)."""
    load_catalogue_sample(tmp_path)
    before = row_counts()
    assert before["cities.City"] > 0
    checked = latest_reversible_migrations()
    for app, latest, parent in checked:
        executor = MigrationExecutor(connection)
        executor.migrate([(app, parent)])
        executor.loader.build_graph()
        executor.migrate([(app, latest)])
    call_command("migrate", verbosity=0)
    assert row_counts() == before
    # Once an app has more than its initial migration, its latest one is exercised.
    assert {app for app, *_ in checked} == {
        app
        for app in PROJECT_APPS
        if len([k for k in MigrationLoader(None).disk_migrations if k[0] == app]) > 1
    }

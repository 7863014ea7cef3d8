"""Test databases copied from a migrated template, instead of migrated afresh.

Migrating an empty database takes several seconds of CPU, once per pytest-xdist worker
and run. The first worker to need it migrates a template, named by a hash of the
migrations and the apps' code; every worker then copies it (SQLite's backup API into
its in-memory database, PostgreSQL's CREATE DATABASE ... TEMPLATE), and Django's own
test setup runs `migrate` over the copy as usual: with nothing left to apply, it only
runs the post_migrate handlers (permissions, the catalogue version's triggers).
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

PROJECT_APPS = ("activities", "cities", "citydiplo")


def template_key(vendor):
    """A hash of every migration (the project's and installed apps'), the project's
    code (models and post_migrate handlers shape the schema too) and Django's version."""
    digest = hashlib.sha256(f"{django.__version__} {vendor}".encode())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    files = {Path(sys.modules[m.__module__].__file__) for m in loader.disk_migrations.values()}
    for app in PROJECT_APPS:
        files.update((settings.BASE_DIR / app).rglob("*.py"))
    for path in sorted(files):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@contextlib.contextmanager
def locked(path):
    """One process at a time (the xdist workers of one run, or two runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate_database(name):
    """Run every migration into the database called `name` (a file, on SQLite)."""
    saved = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = saved


def sqlite_template(cache_dir, key):
    path = cache_dir / f"test-db-{key}.sqlite3"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        if connection.vendor == "sqlite":
            migrate_database(str(partial))
        else:  # a SQLite file for tests that run on another database
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=settings.BASE_DIR,
                env={**os.environ, "DATABASE_URL": f"sqlite:///{partial}"},
                check=True,
            )
        with contextlib.closing(sqlite3.connect(partial)) as db:
            db.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        for stale in cache_dir.glob("test-db-*.sqlite3"):
            stale.unlink()
        partial.replace(path)
    return path


def postgresql_template(key):
    prefix = f"{connection.settings_dict['NAME'][: 63 - 10 - len(key)]}_template_"
    name = prefix + key  # PostgreSQL's names have at most 63 bytes
    with connection._nodb_cursor() as cursor:
        cursor.execute(  # this template and other keys' (stale) ones
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [prefix.replace("_", r"\_") + "%"],
        )
        existing = {row[0] for row in cursor.fetchall()}
        if name in existing:
            return name
        for stale in existing:
            cursor.execute(f'DROP DATABASE "{stale}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        migrate_database(name)
    except BaseException:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE "{name}"')
        raise
    return name


def cache_dir():
    return Path(getattr(settings, "CATALOGUE_CACHE_DIR", settings.BASE_DIR / ".cache"))


def migrated_sqlite_file(path):
    """Copy a migrated SQLite database to `path`, whatever database the tests run on."""
    with locked(cache_dir() / "test-db.lock"):
        template = sqlite_template(cache_dir(), template_key("sqlite"))
    shutil.copyfile(template, path)


@contextlib.contextmanager
def test_database_from_template():
    """Lay this worker's test database as a copy of the migrated template, for Django's
    setup_databases(keepdb=True) to find; the copy lives until the context ends."""
    test_name = connection.creation._get_test_db_name()
    with locked(cache_dir() / "test-db.lock"):
        key = template_key(connection.vendor)
        if connection.vendor == "sqlite":
            template = sqlite_template(cache_dir(), key)
            # The in-memory test database lives as long as one connection to it is open.
            keeper = sqlite3.connect(test_name, uri=True)
            with contextlib.closing(sqlite3.connect(template)) as source:
                source.backup(keeper)
        elif connection.vendor == "postgresql":
            template = postgresql_template(key)
            keeper = None
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{test_name}"')
                cursor.execute(f'CREATE DATABASE "{test_name}" TEMPLATE "{template}"')
                # A commit need not wait for its WAL to reach the disk (0.7 ms a commit
                # here, against 0.17): a crash can only lose a database thrown away
                # anyway. The browser tests, backups and every flush commit often.
                cursor.execute(f'ALTER DATABASE "{test_name}" SET synchronous_commit = off')
        else:
            raise NotImplementedError(connection.vendor)
    try:
        yield
    finally:
        if keeper is not None:
            keeper.close()

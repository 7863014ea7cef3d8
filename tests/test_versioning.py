"""The catalogue version: the database raises it on every write to a catalogue table,
whatever wrote it."""

import threading

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, connections, transaction

from activities.models import Theme, Twinning
from cities.models import City
from citydiplo import versioning
from citydiplo.versioning import catalogue_version


def test_every_catalogue_table_has_its_triggers(db):
    # A migration that recreates a table on SQLite drops its triggers; this says which.
    expected = {
        name
        for table in versioning.tracked_tables(apps)
        for name in versioning.trigger_names(table)
    }
    assert len(versioning.tracked_tables(apps)) >= 15
    assert {"activities_twinning", "cities_city", "activities_twinning_sources"} <= set(
        versioning.tracked_tables(apps)
    )
    assert not any("historical" in t for t in versioning.tracked_tables(apps))
    assert expected - versioning.installed_triggers() == set()


def test_migrate_reinstalls_lost_triggers_with_no_hand_written_step(db):
    # What a SQLite table rebuild (AlterField...) does to a table's triggers.
    versioning.drop_triggers(
        versioning._Executor(connection), ["activities_twinning", "cities_city"]
    )
    assert (
        not {
            name
            for table in ("activities_twinning", "cities_city")
            for name in versioning.trigger_names(table)
        }
        & versioning.installed_triggers()
    )
    call_command("migrate", verbosity=0)
    test_every_catalogue_table_has_its_triggers(db)
    before = catalogue_version()
    City.objects.create(name="Gdańsk", slug="gdansk-pl", country="PL")
    assert catalogue_version() > before


def raises_version(write):
    before = catalogue_version()
    write()
    return catalogue_version() > before


@pytest.mark.django_db
def test_every_kind_of_write_raises_the_version(twinned_pair, source, make_city):
    city = twinned_pair.city_a
    assert raises_version(lambda: make_city("Dresden", "DE"))
    assert raises_version(lambda: City.objects.filter(pk=city.pk).update(summary="Edited."))
    assert raises_version(lambda: city.save())
    peace = {"name": "Peace", "slug": "peace", "field": "security"}
    assert raises_version(lambda: Theme.objects.create(**peace))
    assert raises_version(lambda: twinned_pair.sources.remove(source))
    assert raises_version(lambda: twinned_pair.city_b.sources.add(source))
    assert raises_version(
        lambda: City.objects.bulk_create([City(name="Kyiv", slug="kyiv-ua", country="UA")])
    )

    def raw_sql():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cities_city SET notes = 'raw' WHERE id = %s", [city.pk])

    assert raises_version(raw_sql)
    assert raises_version(lambda: Twinning.objects.filter(pk=twinned_pair.pk).delete())


@pytest.mark.django_db
def test_writes_outside_the_catalogue_leave_the_version_alone(twinned_pair):
    before = catalogue_version()
    User.objects.create_user("editor", password="a long enough password")
    assert catalogue_version() == before
    assert list(City.objects.all()) and catalogue_version() == before  # reads neither


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has one writer at a time: concurrent writers cannot interleave",
)
def test_concurrent_writers_wait_for_each_other_and_never_deadlock():
    """A writes X; B writes Y and waits for the version; A then writes Y. With the lock
    taken after B's statement, B would hold Y while waiting: a deadlock. Taken before
    it, B holds nothing yet, and both commit."""
    first = City.objects.create(name="X", slug="x-fr", country="FR")
    second = City.objects.create(name="Y", slug="y-fr", country="FR")
    started, errors = threading.Event(), []

    def writer_b():
        try:
            started.wait(10)
            with transaction.atomic():
                City.objects.filter(pk=second.pk).update(summary="by B")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    b = threading.Thread(target=writer_b)
    b.start()
    before = catalogue_version()
    with transaction.atomic():
        City.objects.filter(pk=first.pk).update(summary="by A")
        started.set()
        b.join(timeout=2)  # B is now waiting for the version row
        assert b.is_alive()
        City.objects.filter(pk=second.pk).update(summary="by A")
    b.join(timeout=20)
    assert not b.is_alive() and errors == []
    assert City.objects.get(pk=second.pk).summary == "by B"  # B committed after A
    assert catalogue_version() == before + 3

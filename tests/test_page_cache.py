"""Caching: public pages are cached whole under the catalogue version and answer
conditional GETs; the database raises that version on every write to a catalogue
table, whatever wrote it, so any write renders the pages afresh."""

import socket
import threading
import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from activities.models import Theme, Twinning
from cities.models import City
from citydiplo import versioning
from citydiplo.versioning import catalogue_version


def get(client, url, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
    return response, len(captured)


@pytest.mark.parametrize(
    "url", ["/", "/twinnings/?country=GB", "/cities/coventry-gb/", "/search/?q=coventry"]
)
def test_a_second_visit_is_served_from_the_cache_with_one_query(twinned_pair, client, url):
    first, first_queries = get(client, url)
    second, second_queries = get(client, url)
    assert first.status_code == second.status_code == 200
    assert first_queries > 1
    assert second_queries == 1  # the catalogue version
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"] == "text/html; charset=utf-8"
    assert second["ETag"] == first["ETag"]
    assert "no-cache" in second["Cache-Control"]
    assert second["Content-Security-Policy"]  # middleware headers still apply


def test_an_edit_of_any_kind_shows_at_once(twinned_pair, client):
    url = "/cities/coventry-gb/"
    before, _ = get(client, url)
    assert b"Volgograd" in before.content
    City.objects.filter(slug="volgograd-ru").update(name="Stalingrad")  # no save(), no signal
    after, queries = get(client, url)
    assert queries > 1
    assert b"Stalingrad" in after.content and b"Volgograd" not in after.content
    assert after["ETag"] != before["ETag"]
    Twinning.objects.filter(pk=twinned_pair.pk).update(review_state="draft")
    unpublished, _ = get(client, url)
    assert b"Stalingrad" not in unpublished.content


def test_an_unchanged_page_answers_304_to_its_etag(twinned_pair, client):
    url = "/twinnings/?country=GB"
    first, _ = get(client, url)
    again, queries = get(client, url, if_none_match=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert queries == 1
    twinned_pair.notes = "Re-checked."
    twinned_pair.save()
    changed, _ = get(client, url, if_none_match=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_downloads_are_streamed_not_stored_but_carry_an_etag(twinned_pair, client):
    url = "/twinnings/?format=csv"
    first, _ = get(client, url)
    assert first.streaming and first["ETag"]
    with CaptureQueriesContext(connection) as captured:
        second = client.get(url)
        body = b"".join(second.streaming_content)
    assert second.streaming and len(captured) > 1  # read afresh, not from the cache
    assert body == b"".join(first.streaming_content)
    assert get(client, url, if_none_match=first["ETag"])[0].status_code == 304


def test_errors_and_bad_requests_are_not_cached(twinned_pair, client):
    for url in ["/cities/nowhere-xx/", "/twinnings/?format=pdf"]:
        first, _ = get(client, url)
        second, queries = get(client, url)
        assert first.status_code == second.status_code >= 400
        assert "ETag" not in second
        assert queries >= 1


def test_visitors_with_a_session_always_get_a_fresh_page(twinned_pair, client):
    url = "/twinnings/"
    get(client, url)
    client.cookies["sessionid"] = "anything"
    _, queries = get(client, url)
    assert queries > 1


def test_the_page_cache_can_be_turned_off(twinned_pair, client, settings):
    settings.PAGE_CACHE = False
    url = "/cities/coventry-gb/"
    get(client, url)
    response, queries = get(client, url)
    assert queries > 1
    assert "ETag" not in response


def test_a_cached_page_is_keyed_by_host(twinned_pair, client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    url = "/cities/coventry-gb/"
    get(client, url)
    other = client.get(url, headers={"host": "other.example"})
    assert b"other.example/cities/coventry-gb/" in other.content  # the citation's address


def redis_reachable():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_reachable(), reason="no Redis server on 127.0.0.1:6379")
def test_pages_are_shared_through_redis_when_cache_url_names_one(twinned_pair, client):
    prefix = f"citydiplo-test-{uuid.uuid4().hex}"  # this test's keys only
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=redis_cache):
        try:
            url = "/cities/coventry-gb/"
            first, _ = get(client, url)
            second, queries = get(client, url)
            assert queries == 1 and second.content == first.content
            redis = cache._cache.get_client()
            assert any(redis.scan_iter(f"{prefix}:*"))  # stored in Redis, not in memory
            City.objects.filter(slug="volgograd-ru").update(name="Stalingrad")
            assert b"Stalingrad" in get(client, url)[0].content
        finally:
            # Delete this test's keys only: cache.clear() would empty the whole database.
            redis = cache._cache.get_client()
            for key in redis.scan_iter(f"{prefix}:*"):
                redis.delete(key)


# The catalogue version ------------------------------------------------------------------


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

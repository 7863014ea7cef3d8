"""City.objects.search: names and other names, best match first, by index."""

import pytest
from django.db import connection

from cities.models import City

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram and full-text search are PostgreSQL's"
)


@pytest.fixture
def places(make_city):
    return {
        "krakow": make_city("Kraków", "PL", alternate_names="Cracow\nKrakau", population=800_000),
        "volgograd": make_city(
            "Volgograd", "RU", alternate_names="Stalingrad", population=1_000_000
        ),
        "bern": make_city("Bern", "CH", population=130_000),
        "berlin": make_city("Berlin", "DE", population=3_400_000),
        "hidden": make_city("Berlinchen", "DE", review_state="draft"),
    }


def test_search_finds_names_and_alternate_names_by_substring(places):
    assert set(City.objects.search("volgo")) == {places["volgograd"]}
    assert set(City.objects.search("stalingrad")) == {places["volgograd"]}
    assert set(City.objects.search("CRACOW")) == {places["krakow"]}


def test_blank_search_filters_nothing(places):
    assert City.objects.search("  ").count() == City.objects.count() == 5


def test_search_composes_with_published(places):
    assert places["hidden"] not in City.objects.published().search("berlin")
    assert places["berlin"] in City.objects.published().search("berlin")


def test_search_ranks_the_exact_name_first(places):
    assert list(City.objects.published().search("berlin"))[0] == places["berlin"]
    assert list(City.objects.search("bern")) == [places["bern"]]


@on_postgresql
def test_search_indexes_exist_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cities_cityname'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"cityname_folded_trgm", "cityname_folded_pattern", "cityname_folded_idx"} <= names

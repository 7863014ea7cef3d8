"""List and detail pages run as many queries with thousands of rows as with a few."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.loading import refresh_planner_statistics
from activities.models import Twinning
from cities.models import City

COUNTRIES = ["DE", "FR", "PL", "IT", "US", "JP", "GB", "ES"]


def add_cities(count, start):
    return City.objects.bulk_create(
        City(
            name=f"Place {n}",
            slug=f"place-{n}",
            country=COUNTRIES[n % len(COUNTRIES)],
            latitude=n % 80,
            longitude=n % 170,
            population=1000 + n,
        )
        for n in range(start, start + count)
    )


def add_twinnings(hub, cities, pairs):
    """The hub twinned with every city, and a chain of `pairs` more pairs among them."""
    twinnings = [Twinning(city_a=hub, city_b=city) for city in cities]
    twinnings += [
        Twinning(city_a=cities[i], city_b=cities[(i + 1) % len(cities)])
        for i in range(min(pairs, len(cities) - 1))
    ]
    Twinning.objects.bulk_create(twinnings)


def queries(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def page_urls(hub):
    return [
        reverse("activities:twinning-list"),
        reverse("activities:twinning-list") + "?country=DE",
        reverse("cities:city-list"),
        reverse("cities:city-list") + "?region=europe",
        hub.get_absolute_url(),
        Twinning.objects.involving(hub).first().get_absolute_url(),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("page_cache", [True, False], ids=["page-cache", "no-page-cache"])
def test_list_and_detail_pages_run_constant_queries_as_data_grows(client, settings, page_cache):
    # Rendered afresh (the cache is emptied before each request), a page runs as many
    # queries with 1,200 twinnings as with 5 (more than the largest page, 500 rows, and
    # the hub's own page lists 600), with or without the page cache around it.
    settings.PAGE_CACHE = page_cache
    hub = City.objects.create(name="Hub", slug="hub-de", country="DE", population=10**6)
    add_twinnings(hub, add_cities(5, 0), pairs=4)
    urls = page_urls(hub)  # the same pages before and after: ties may reorder `first()`
    small = {url: queries(client, url) for url in urls}

    add_twinnings(hub, add_cities(600, 100), pairs=600)
    refresh_planner_statistics()  # as the bulk loaders do; else PostgreSQL nested-loops
    assert Twinning.objects.count() > 1200
    assert Twinning.objects.involving(hub).count() > 600
    large = {url: queries(client, url) for url in urls}

    assert large == small

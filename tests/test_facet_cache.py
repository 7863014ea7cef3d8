"""Facet and result counts are cached under the catalogue version, and never outlive
the data they counted."""

import pytest
from django.core.cache import cache

from activities.models import Twinning


@pytest.fixture(autouse=True)
def _no_page_cache(settings):
    settings.PAGE_CACHE = False  # each request renders: what is measured is the counts


def kind_counts(client):
    response = client.get("/twinnings/")
    facet = next(f for f in response.context["facets"] if f.name == "kind")
    return response.context["result_count"], {c.value: c.count for c in facet.choices}


def test_cached_facet_counts_are_right_and_follow_changes(
    client, make_city, django_assert_max_num_queries, django_assert_num_queries
):
    cities = [make_city() for _ in range(4)]
    Twinning.objects.create(city_a=cities[0], city_b=cities[1], kind="sister_city")
    Twinning.objects.create(city_a=cities[0], city_b=cities[2], kind="twin_town")
    with django_assert_max_num_queries(20) as first:
        assert kind_counts(client) == (2, {"sister_city": 1, "twin_town": 1})
    # Served from the cache: the version, the page of rows and its prefetches only.
    with django_assert_num_queries(len(first.captured_queries) - 6):
        assert kind_counts(client) == (2, {"sister_city": 1, "twin_town": 1})
    Twinning.objects.create(city_a=cities[0], city_b=cities[3], kind="twin_town")
    assert kind_counts(client) == (3, {"sister_city": 1, "twin_town": 2})


def test_counts_follow_a_bare_queryset_update(client, make_city):
    # No save(), no signal: the database's triggers still raise the version.
    cities = [make_city() for _ in range(3)]
    Twinning.objects.create(city_a=cities[0], city_b=cities[1], kind="sister_city")
    Twinning.objects.create(city_a=cities[0], city_b=cities[2], kind="sister_city")
    assert kind_counts(client) == (2, {"sister_city": 2})
    Twinning.objects.filter(city_b=cities[2]).update(kind="friendship_city")
    assert kind_counts(client) == (2, {"sister_city": 1, "friendship_city": 1})
    Twinning.objects.filter(city_b=cities[2]).update(review_state="draft")
    assert kind_counts(client) == (1, {"sister_city": 1})


# Pages whose counts share cache entries with one another: each facet, the pagination's
# count and the counts behind a repeatable filter are keyed by the filters they depend on.
RELATED_PAGES = [
    "/cities/",
    "/cities/?country=FR",
    "/cities/?country=FR&country=DE",
    "/cities/?country=DE&country=FR&ordering=-name",
    "/cities/?region=europe",
    "/cities/?region=europe&capital=true",
    "/cities/?network=eurocities",
    "/cities/?network=c40",
    "/cities/?network=nobody&region=asia",
    "/cities/?q=paris",
    "/cities/?q=lyon&country=FR",
    "/cities/?population_min=1000000",
    "/cities/?population_min=1000000.0",
    "/twinnings/?country=FR",
    "/twinnings/?country=DE",
    "/twinnings/?country_pair=DE-FR",
    "/agreements/?theme=climate",
    "/agreements/?theme=peace",
    "/networks/?theme=climate&hq_country=US",
    "/activities/?country=FR&country=JP",
]


def counts_shown(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.context["result_count"], [
        (facet.name, [(c.value, c.count, c.selected, c.url) for c in facet.choices])
        for facet in response.context["facets"]
    ]


def test_counts_keyed_by_filters_are_those_counted_afresh(client, catalogue):
    fresh = {}
    for url in RELATED_PAGES:
        cache.clear()
        fresh[url] = counts_shown(client, url)
    cache.clear()
    for _ in range(2):  # filling the cache, then from it
        for url in RELATED_PAGES:
            assert counts_shown(client, url) == fresh[url], url


def test_a_filter_value_without_an_exact_key_is_keyed_by_the_query(catalogue):
    from citydiplo.facets import key_value

    assert key_value(["FR", None, 3, catalogue.paris]) == (
        "list",
        "FR",
        None,
        3,
        ("cities.City", catalogue.paris.pk),
    )
    with pytest.raises(TypeError):
        key_value(Twinning.objects.all())

"""Facet counts of large results are cached, and never outlive the data they counted."""

import pytest
from django.core.cache import cache

from activities.models import Twinning
from cities import listing
from cities.facets import catalogue_version


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def kind_counts(client):
    response = client.get("/twinnings/")
    facet = next(f for f in response.context["facets"] if f.name == "kind")
    return {choice.value: choice.count for choice in facet.choices}


def test_catalogue_version_changes_with_saves_publication_and_deletion(twinned_pair):
    first = catalogue_version()
    assert catalogue_version() == first
    twinned_pair.notes = "Re-checked."
    twinned_pair.save()
    second = catalogue_version()
    assert second != first
    Twinning.objects.filter(pk=twinned_pair.pk).update(review_state="draft")
    third = catalogue_version()
    assert third != second
    twinned_pair.delete()
    assert catalogue_version() != third


def test_cached_facet_counts_are_right_and_follow_changes(
    client, make_city, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(listing, "FACET_CACHE_MIN_ROWS", 1)
    cities = [make_city() for _ in range(4)]
    Twinning.objects.create(city_a=cities[0], city_b=cities[1], kind="sister_city")
    Twinning.objects.create(city_a=cities[0], city_b=cities[2], kind="twin_town")
    assert kind_counts(client) == {"sister_city": 1, "twin_town": 1}
    with django_assert_max_num_queries(6):  # served from the cache: no facet queries
        assert kind_counts(client) == {"sister_city": 1, "twin_town": 1}
    Twinning.objects.create(city_a=cities[0], city_b=cities[3], kind="twin_town")
    assert kind_counts(client) == {"sister_city": 1, "twin_town": 2}


def test_catalogue_version_changes_when_a_link_is_added(twinned_pair, source):
    before = catalogue_version()
    twinned_pair.city_a.sources.add(source)
    assert catalogue_version() != before

"""Every named URL without arguments answers 200 with one <h1>."""

import pytest
from django.urls import get_resolver, reverse

NO_ARG_URLS = [
    "activities:home",
    "activities:search",
    "activities:about",
    "activities:analysis",
    "activities:network-list",
    "activities:agreement-list",
    "activities:twinning-list",
    "activities:activity-list",
    "activities:membership-list",
    "activities:agreementparty-list",
    "activities:data",
    "activities:analysis",
    "cities:city-list",
]


@pytest.mark.parametrize("name", NO_ARG_URLS)
def test_public_page_answers_with_one_heading(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response.content.decode().count("<h1") == 1


JSON_URLS = ["cities:city-autocomplete"]


def test_every_argument_free_public_url_is_listed_above():
    resolver = get_resolver()
    names = set()
    for namespace in ("activities", "cities"):
        _prefix, sub = resolver.namespace_dict[namespace]
        for name in sub.reverse_dict:
            if not isinstance(name, str):
                continue
            possibilities = sub.reverse_dict.getlist(name)[0][0]
            if not possibilities[0][1]:
                names.add(f"{namespace}:{name}")
    assert names == set(NO_ARG_URLS) | set(JSON_URLS)


def test_favicon_is_linked_and_served(client, db):
    from django.contrib.staticfiles import finders

    page = client.get("/about/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg")

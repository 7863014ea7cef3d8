"""The read API: its schema, its lists (the list pages' filters and counts), its
records, its errors and throttling, and the JSON answer of every record page."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

from activities.models import Source, Theme
from tests.records import without_history, write_small_catalogue

KINDS = [
    "cities", "networks", "memberships", "agreements", "agreement-parties", "twinnings",
    "activities", "themes", "sources",
]  # fmt: skip


def api(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.content[:300])
    return response.json()


def test_index_lists_every_endpoint_the_schema_and_the_docs(client, db):
    index = api(client, "/api/")
    assert list(index["endpoints"]) == KINDS
    assert index["endpoints"]["twinnings"] == "http://testserver/api/twinnings/"
    assert index["schema"].endswith("/api/schema/") and index["docs"].endswith("/api/docs/")
    assert "CC BY-SA 4.0" in index["licence"]


def test_schema_is_valid_openapi_3_and_documents_the_filters(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    assert schema["openapi"].startswith("3.")
    for kind in KINDS:
        assert f"/api/{kind}/" in schema["paths"] and f"/api/{kind}/{{key}}/" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/twinnings/"]["get"]["parameters"]}
    assert {"country", "country_pair", "status", "year_min", "page", "page_size", "q"} <= params
    params = {p["name"] for p in schema["paths"]["/api/memberships/"]["get"]["parameters"]}
    assert {"network", "city", "country", "role", "year_min", "member_in"} <= params


def test_docs_page_uses_vendored_assets_and_no_inline_script(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all('src="' in tag for tag in scripts)
    assert "<style" not in page and "cdn" not in page.lower()
    for asset in re.findall(r'(?:src|href)="/static/([^"]+)"', page):
        assert finders.find(asset), asset
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


# The same filters and counts as the list pages -----------------------------------------

SAME_COUNTS = [
    ("/cities/", "country=FR"),
    ("/cities/", "network=c40&capital=true"),
    ("/networks/", "theme=climate"),
    ("/networks/", "active=false"),
    ("/memberships/", "network=c40"),
    ("/memberships/", "country=FR&role=member"),
    ("/memberships/", "city=tokyo-jp"),
    ("/agreements/", "country=DE"),
    ("/agreements/", "q=pact"),
    ("/agreement-parties/", "city=paris-fr"),
    ("/agreement-parties/", "network=c40&action=signed"),
    ("/twinnings/", "country=FR"),
    ("/twinnings/", "status=active&year_min=1970"),
    ("/twinnings/", "country_pair=DE-FR"),
    ("/activities/", "city=tokyo-jp"),
    ("/activities/", "theme=peace"),
]


@pytest.mark.parametrize(("page", "query"), SAME_COUNTS)
def test_api_count_equals_the_list_page_count(client, catalogue, page, query):
    shown = client.get(f"{page}?{query}")
    assert shown.status_code == 200
    answered = api(client, f"/api{page}?{query}")
    assert answered["count"] == shown.context["result_count"]
    assert answered["count"] > 0
    everything = api(client, f"/api{page}?page_size=500")
    assert everything["count"] == client.get(page).context["result_count"]


def test_api_themes_and_sources_count_what_the_catalogue_holds(client, catalogue, source):
    catalogue.paris_berlin.sources.add(source)
    Source.objects.create(key="draft-only", title="Only drafts", url="https://x.org", kind="news")
    assert api(client, "/api/themes/")["count"] == Theme.objects.count()
    assert api(client, "/api/themes/?field=security")["count"] == 1
    sources = api(client, "/api/sources/")
    assert [s["key"] for s in sources["results"]] == [source.key]  # not the uncited one
    assert sources["results"][0]["url"] == "https://example.org/source"


def test_lists_page_in_a_stable_order_without_overlap(client, catalogue):
    first = api(client, "/api/twinnings/?page_size=2&ordering=status")
    seen = [row["id"] for row in first["results"]]
    following = first["next"]
    while following:
        page = api(client, following)
        seen += [row["id"] for row in page["results"]]
        assert page["previous"]
        following = page["next"]
    assert len(seen) == len(set(seen)) == first["count"]
    assert first["previous"] is None


# Published records only ---------------------------------------------------------------

DRAFT_MARKS = ["hidden-fr", "draft-network", "draft-accord", "draft-activity"]


def test_drafts_never_appear_in_any_list(client, catalogue):
    for kind in KINDS:
        text = client.get(f"/api/{kind}/?page_size=500").content.decode()
        for mark in DRAFT_MARKS:
            assert mark not in text, (kind, mark)
    ids = {row["id"] for row in api(client, "/api/twinnings/")["results"]}
    assert catalogue.draft_twinning.pk not in ids and catalogue.twinning_with_draft.pk not in ids


def test_drafts_have_no_detail(client, catalogue):
    for url in [
        "/api/cities/hidden-fr/",
        f"/api/cities/{catalogue.hidden.pk}/",
        "/api/networks/draft-network/",
        "/api/agreements/draft-accord/",
        "/api/activities/draft-activity/",
        f"/api/twinnings/{catalogue.draft_twinning.pk}/",
        f"/api/twinnings/{catalogue.twinning_with_draft.pk}/",
    ]:
        assert client.get(url).status_code == 404, url


def test_links_to_drafts_are_null(client, draft_links):
    network = api(client, "/api/networks/open-network/")
    assert network["headquarters"] is None and network["merged_into"] is None
    agreement = api(client, "/api/agreements/open-pact/")
    assert agreement["place"] is None and agreement["network"] is None
    assert api(client, "/api/activities/open-mission/")["lead_city"] is None


# One record --------------------------------------------------------------------------


@pytest.fixture
def small_catalogue(source):
    """The small catalogue, written for each of this module's few tests that use it: the
    others share `catalogue` (tests/conftest.py), which holds the same cities."""
    return without_history(write_small_catalogue)(source)


def test_record_by_slug_or_id_with_sources_and_related_urls(client, small_catalogue, source):
    coventry = small_catalogue["coventry"]
    by_slug = api(client, "/api/cities/coventry-gb/")
    assert by_slug == api(client, f"/api/cities/{coventry.pk}/")
    assert by_slug["sources"] == ["http://testserver/api/sources/test-source/"]
    assert by_slug["twinnings"] == "http://testserver/api/twinnings/?city=coventry-gb"
    assert by_slug["page_url"] == "http://testserver/cities/coventry-gb/"
    assert by_slug["latitude"] == pytest.approx(52.40656)
    assert api(client, by_slug["twinnings"])["count"] == 2
    twinning = api(client, f"/api/twinnings/{small_catalogue['volgograd_link'].pk}/")
    assert twinning["city_a"] == by_slug["api_url"]
    assert twinning["status_act"] == "Council resolution of 22 March 2022"
    assert twinning["themes"] == ["http://testserver/api/themes/peace/"]
    assert api(client, twinning["sources"][0])["title"] == "Test source"
    activity = api(client, "/api/activities/aid-to-ukrainian-cities/")
    assert activity["partner_cities"] == ["http://testserver/api/cities/dresden-de/"]
    assert activity["budget"] == 250000
    network = api(client, "/api/networks/cities-for-peace/")
    assert api(client, network["members"])["count"] == 3
    pact = api(client, "/api/agreements/peace-pact/")
    assert api(client, pact["parties"])["count"] == 2
    assert api(client, "/api/sources/test-source/")["key"] == "test-source"


RECORD_PAGES = [
    ("/cities/coventry-gb/", "/api/cities/coventry-gb/"),
    ("/networks/cities-for-peace/", "/api/networks/cities-for-peace/"),
    ("/agreements/peace-pact/", "/api/agreements/peace-pact/"),
    ("/activities/aid-to-ukrainian-cities/", "/api/activities/aid-to-ukrainian-cities/"),
    ("/themes/peace/", "/api/themes/peace/"),
]


@pytest.mark.parametrize(("page", "endpoint"), RECORD_PAGES)
def test_record_pages_answer_json_when_asked(client, small_catalogue, page, endpoint):
    html = client.get(page)  # cached as a page first: JSON must not be served from it
    assert html["Content-Type"].startswith("text/html") and "Accept" in html["Vary"]
    expected = api(client, endpoint)
    asked = client.get(page, HTTP_ACCEPT="application/json")
    assert asked["Content-Type"] == "application/json" and "Accept" in asked["Vary"]
    assert asked.json() == expected
    assert api(client, f"{page}?format=json") == expected
    browser = client.get(page, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser["Content-Type"].startswith("text/html")


def test_twinning_page_answers_json(client, small_catalogue):
    pk = small_catalogue["volgograd_link"].pk
    assert api(client, f"/twinnings/{pk}/", HTTP_ACCEPT="application/json")["id"] == pk


# Errors and limits -------------------------------------------------------------------

BAD = [
    ("/api/cities/?contry=FR", "contry"),
    ("/api/cities/?country=ZZ", "country"),
    ("/api/cities/?population_min=many", "population_min"),
    ("/api/twinnings/?page=abc", "page"),
    ("/api/twinnings/?page=99", "page"),
    ("/api/twinnings/?page_size=0", "page_size"),
    ("/api/twinnings/?page_size=501", "page_size"),
    ("/api/twinnings/?country_pair=DE", "country_pair"),
    ("/api/twinnings/?ordering=nonsense", "ordering"),
    ("/api/twinnings/?format=csv", "format"),
    ("/api/memberships/?network=no-such-network", "network"),
    ("/api/memberships/?role=emperor", "role"),
    ("/api/agreement-parties/?year_min=soon", "year_min"),
    ("/api/networks/?q=%00", "q"),
]


@pytest.mark.parametrize(("url", "parameter"), BAD)
def test_bad_parameters_get_a_400_naming_them(client, catalogue, url, parameter):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert parameter in response.json()


@pytest.mark.parametrize(
    "path",
    ["/api/cities/%00/", "/api/twinnings/99999999999999999999/", "/api/networks/a'b/",
     "/api/cities/" + "x" * 300 + "/", "/api/nothing/"],
)  # fmt: skip
def test_unknown_records_are_404(client, db, path):
    assert client.get(path).status_code == 404


def test_anonymous_clients_are_throttled_with_a_clear_429(client, db, settings):
    settings.API_ANON_RATE = "3/minute"
    for _ in range(3):
        assert client.get("/api/themes/").status_code == 200
    response = client.get("/api/themes/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "3/minute" in response.json()["detail"]


def test_editors_are_not_throttled(editor_client, settings):
    settings.API_ANON_RATE = "1/minute"
    for _ in range(3):
        assert editor_client.get("/api/themes/").status_code == 200


def test_a_page_of_100_twinnings_takes_a_fixed_number_of_queries(
    client, make_city, django_assert_max_num_queries
):
    from activities.models import Twinning
    from cities.models import City

    hub = make_city("Hub", "DE")
    source = Source.objects.create(key="s", title="S", url="https://example.org", kind="news")
    # Written in bulk, as the loaders do: how the rows came is not what is measured.
    cities = City.objects.bulk_create(
        City(name=f"Town {n}", slug=f"town-{n}-fr", country="FR") for n in range(120)
    )
    twinnings = Twinning.objects.bulk_create(Twinning(city_a=hub, city_b=c) for c in cities)
    Twinning.objects.refresh_sides()
    Twinning.sources.through.objects.bulk_create(
        Twinning.sources.through(twinning=twinning, source=source) for twinning in twinnings
    )
    with django_assert_max_num_queries(6):
        page = api(client, "/api/twinnings/?page_size=100")
    assert len(page["results"]) == 100 and page["count"] == 120


def test_lists_are_cached_with_etags_and_never_outlive_their_data(client, catalogue):
    first = client.get("/api/twinnings/?country=FR")
    assert first.status_code == 200 and first["ETag"]
    again = client.get("/api/twinnings/?country=FR", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    catalogue.paris_lyon.review_state = "draft"
    catalogue.paris_lyon.save()
    after = client.get("/api/twinnings/?country=FR", HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == 200
    assert after.json()["count"] == first.json()["count"] - 1


def test_cached_answers_count_towards_the_limit(client, catalogue, settings):
    settings.API_ANON_RATE = "2/minute"
    assert client.get("/api/twinnings/").status_code == 200
    assert client.get("/api/twinnings/").status_code == 200  # from the page cache
    limited = client.get("/api/twinnings/")
    assert limited.status_code == 429 and limited["Retry-After"]
    assert "2/minute" in limited.json()["detail"]

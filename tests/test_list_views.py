"""List pages: status codes, odd input, constant query counts, drafts never shown."""

import copy
import json
import re
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_countries import countries

from activities.models import Activity, Agreement, AgreementParty, Membership, Network, Twinning
from cities.models import City
from cities.regions import countries_in
from citydiplo.facets import SHOWN
from tests.records import new_city, records_for_the_module, without_history

LIST_URLS = [
    "cities:city-list",
    "activities:network-list",
    "activities:agreement-list",
    "activities:twinning-list",
    "activities:activity-list",
]

# The most queries any list page may run, whatever its size: count, rows, prefetches,
# one grouped query per facet (two for a repeatable filter with a selection), the
# catalogue version the caches are keyed by, and the lookups that validate slugs. A
# text search (`q`) on the networks, agreements and activities lists ranks its matches
# in one query per facet as well (activities/search.py), still the same for any size.
MAX_QUERIES = 14


@pytest.fixture(scope="module")
def module_many_records(module_catalogue, django_db_blocker):
    """Enough rows for a page of 10 to differ from a page of 500, written once for the
    module above its catalogue (conftest.records_for_the_module)."""
    with records_for_the_module(
        django_db_blocker, without_history(lambda: write_many_records(module_catalogue))
    ) as cities:
        yield cities


@pytest.fixture
def many_records(module_many_records, catalogue):
    return copy.deepcopy(module_many_records)


def write_many_records(catalogue):
    cities = [new_city(f"Stadt {n}", "DE", population=1000 * n) for n in range(30)]
    for n, city in enumerate(cities):
        partner = cities[(n + 1) % len(cities)]
        if not Twinning.objects.between(city, partner).exists():
            twinning = Twinning.objects.create(city_a=city, city_b=partner, start_year=1950 + n)
            twinning.themes.add(catalogue.peace)
        Membership.objects.create(network=catalogue.eurocities, city=city)
        agreement = Agreement.objects.create(
            title=f"Accord {n}", slug=f"accord-{n}", kind="mou", signed_year=1990 + n
        )
        agreement.themes.add(catalogue.trade)
        AgreementParty.objects.create(agreement=agreement, city=city)
        AgreementParty.objects.create(agreement=agreement, city=partner)
        activity = Activity.objects.create(
            title=f"Mission {n}", slug=f"mission-{n}", kind="trade_mission", lead_city=city
        )
        activity.partner_cities.add(partner, catalogue.paris)
        activity.themes.add(catalogue.trade)
    for n in range(15):
        network = catalogue.c40.__class__.objects.create(
            name=f"Network {n}", slug=f"network-{n}", scope="regional", headquarters=cities[n]
        )
        network.themes.add(catalogue.climate)
    return cities


def queries_for(client, url):
    """Queries of a fresh render: the cache is emptied first, or counts cached by an
    earlier request would hide the queries being compared."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx), response


@pytest.mark.parametrize("url_name", LIST_URLS)
@pytest.mark.parametrize(
    "query",
    ["", "q=a&ordering=-name", "country=DE&theme=trade&city=paris-fr&network=c40&year_min=1900"],
)
def test_query_count_does_not_grow_with_page_size(
    client, many_records, django_assert_max_num_queries, url_name, query
):
    url = reverse(url_name) + "?" + query
    small, response = queries_for(client, url + "&page_size=10")
    large, large_response = queries_for(client, url + "&page_size=500")
    assert small == large
    if response.context["result_count"] > 10:
        assert len(large_response.context["object_list"]) > 10
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url + "&page_size=10")
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url + "&page_size=500")


def test_pages_of_10_and_500_show_10_and_all_rows(client, many_records):
    small = client.get(reverse("activities:twinning-list") + "?page_size=10")
    large = client.get(reverse("activities:twinning-list") + "?page_size=500")
    assert len(small.context["object_list"]) == 10
    total = Twinning.objects.published().count()
    assert total > 10
    assert len(large.context["object_list"]) == large.context["result_count"] == total


BAD_QUERIES = [
    "year_min=nineteen",
    "year_min=1990&year_min=abc",
    "founded_min=x&population_min=-5",
    f"population_min={10**40}&year_max={10**40}",
    "country=ZZ",
    "country=&country=&region=",
    "country_pair=DE&city=no-such-city",
    "page=999",
    "page=-3",
    "page=abc",
    "page=" + "9" * 5000,
    "page_size=1000000000",
    "page_size=0",
    "page_size=lots",
    "ordering=-password",
    "ordering=name&ordering=,,,",
    "theme=&field=&kind=&status=&scope=",
    "q=" + "x" * 2000,
    "q=%00%ff",
    "capital=maybe&active=2&has_twinnings=",
    "network=../../etc",
]


@pytest.mark.parametrize("url_name", LIST_URLS)
def test_bad_input_never_gives_a_server_error(client, catalogue, url_name):
    for query in BAD_QUERIES:
        response = client.get(reverse(url_name) + "?" + query)
        assert response.status_code == 200, query
        assert response.content.decode().count("<h1") == 1, query


def test_invalid_filter_is_named_on_the_page(client, catalogue):
    response = client.get(reverse("activities:twinning-list") + "?year_min=nineteen")
    content = response.content.decode()
    assert "could not be used and were ignored" in content
    assert "Started from" in content and "Enter a whole number." in content
    # The valid rest of the query still applies: every twinning is listed.
    assert response.context["result_count"] == Twinning.objects.published().count()


def test_filter_error_hint_has_the_id_its_field_points_at(client, catalogue):
    page = client.get(reverse("activities:network-list") + "?founded_min=abc").content.decode()
    pattern = r'<input[^>]*name="founded_min"[^>]*aria-describedby="([^"]+)"'
    (described_by,) = re.findall(pattern, page)
    assert f'id="{described_by}"' in page
    assert described_by == "id_founded_min_error"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/search/?q=%00",
        "/search/?q=Paris%00%1b",
        "/cities/?q=%00",
        "/cities/?q=Par%00is&country=F%00R",
        "/networks/?q=%00&theme=%00",
        "/twinnings/?q=%00",
        "/agreements/?q=%00&country=%00",
        "/activities/?q=%00",
    ],
)
def test_no_page_echoes_a_control_character_from_the_query(client, catalogue, url):
    if "?" not in url:
        url += "?q=%00%07"
    response = client.get(url)
    assert response.status_code == 200
    assert b"\x00" not in response.content
    assert b"\x07" not in response.content and b"\x1b" not in response.content


def test_page_past_the_end_shows_the_last_page_and_says_so(client, many_records):
    response = client.get(reverse("cities:city-list") + "?page_size=10&page=999")
    page = response.context["page_obj"]
    assert page.number == page.paginator.num_pages > 1
    assert "There is no page 999" in response.content.decode()


def test_page_size_is_capped_at_500(client, catalogue):
    response = client.get(reverse("cities:city-list") + "?page_size=1000000000")
    assert response.context["paginator"].per_page == 500
    assert "At most 500 rows a page" in response.content.decode()


def test_default_page_size_is_50(client, make_city):
    make_city = without_history(make_city)  # list pages show no history
    for _n in range(55):
        make_city(country="NL")
    response = client.get(reverse("cities:city-list"))
    assert len(response.context["object_list"]) == 50
    assert response.context["page_obj"].has_next()


@pytest.mark.parametrize(
    ("url_name", "draft", "published"),
    [
        ("cities:city-list", "Hidden Town", "Paris"),
        ("activities:network-list", "Draft Network", "Mayors for Peace"),
        ("activities:agreement-list", "Draft Accord", "Food Pact"),
        ("activities:twinning-list", "Hidden Town", "Volgograd"),
        ("activities:activity-list", "Draft Activity", "Water Aid"),
    ],
)
def test_drafts_are_never_shown(client, catalogue, url_name, draft, published):
    content = client.get(reverse(url_name) + "?page_size=500").content.decode()
    assert published in content
    assert draft not in content


def test_active_filters_link_to_the_page_without_them(client, catalogue):
    response = client.get(reverse("cities:city-list") + "?country=FR&country=DE&kind=city")
    active = {(a.label, a.value): a.remove_url for a in response.context["active_filters"]}
    assert active[("Country", "France")] == "?country=DE&kind=city"
    assert active[("Country", "Germany")] == "?country=FR&kind=city"
    assert active[("Kind of place", "City")] == "?country=FR&country=DE"
    assert 'aria-label="Remove filter Country: France"' in response.content.decode()


def test_facet_links_keep_the_other_filters_and_reset_the_page(client, catalogue):
    response = client.get(reverse("activities:agreement-list") + "?kind=pact&page=2")
    facets = {facet.name: facet for facet in response.context["facets"]}
    countries = {choice.value: choice for choice in facets["country"].choices}
    assert countries["JP"].url == "?kind=pact&country=JP"
    kinds = {choice.value: choice for choice in facets["kind"].choices}
    assert kinds["pact"].selected and kinds["pact"].url == "?"


def test_sortable_headers_reverse_the_current_order(client, catalogue):
    response = client.get(reverse("cities:city-list") + "?ordering=population&country=FR")
    header = {cell.label: cell for cell in response.context["header"]}
    assert header["Population"].sort == "ascending"
    assert header["Population"].url == "?country=FR&ordering=-population"
    assert header["Name"].url == "?country=FR&ordering=name"
    content = response.content.decode()
    assert '<th scope="col" aria-sort="ascending" class="num">' in content


def test_result_count_and_empty_state(client, catalogue):
    content = client.get(reverse("cities:city-list") + "?country=FR").content.decode()
    assert "<strong>2</strong> results match these filters" in content
    empty = client.get(reverse("cities:city-list") + "?country=FR&kind=metropolis")
    assert empty.context["result_count"] == 0
    text = empty.content.decode()
    assert "Nothing matches" in text and "Clear all filters" in text
    assert "<table" not in text


def test_list_page_is_a_real_table(client, catalogue):
    content = client.get(reverse("activities:twinning-list")).content.decode()
    assert "<caption" in content
    assert '<th scope="row">' in content
    assert '<label for="id_q">Search:</label>' in content


def test_activity_download_still_names_partner_cities(client, catalogue):
    response = client.get(reverse("activities:activity-list") + "?format=json")
    rows = json.loads(b"".join(response.streaming_content))["results"]
    assert any(row["partner_cities"] for row in rows)


def kind_counts(client):
    response = client.get("/twinnings/")
    facet = next(f for f in response.context["facets"] if f.name == "kind")
    return response.context["result_count"], {c.value: c.count for c in facet.choices}


def test_facet_counts_follow_any_write(client, make_city, settings):
    settings.PAGE_CACHE = False
    cities = [make_city() for _ in range(4)]
    Twinning.objects.create(city_a=cities[0], city_b=cities[1], kind="sister_city")
    Twinning.objects.create(city_a=cities[0], city_b=cities[2], kind="twin_town")
    assert kind_counts(client) == (2, {"sister_city": 1, "twin_town": 1})
    Twinning.objects.create(city_a=cities[0], city_b=cities[3], kind="twin_town")
    assert kind_counts(client) == (3, {"sister_city": 1, "twin_town": 2})
    Twinning.objects.filter(city_b=cities[3]).update(kind="friendship_city")
    assert kind_counts(client) == (3, {"sister_city": 1, "twin_town": 1, "friendship_city": 1})
    Twinning.objects.filter(city_b=cities[3]).update(review_state="draft")
    assert kind_counts(client) == (2, {"sister_city": 1, "twin_town": 1})


def test_facet_labels_and_links_are_escaped(client, make_city, settings):
    settings.PAGE_CACHE = False
    network = Network.objects.create(name="<b>Mayors & co</b>", slug="mayors-co", scope="global")
    city = make_city()
    Membership.objects.create(network=network, city=city)
    content = client.get("/cities/?x=a%26b").content.decode()
    assert "&lt;b&gt;Mayors &amp; co&lt;/b&gt;" in content
    assert "<b>Mayors" not in content
    assert "network=mayors-co" in content


# Result counts and twinning counts, as a researcher reads them ------------------------


TWINNING_QUERIES = [
    "",
    "country=FR",
    "country=FR&country=DE",
    "region=europe",
    "country=FR&status=active",
    "q=paris",
    "city=paris-fr&year_min=1900",
    # Every facet of the list filtered: no facet's pass reads the page's own rows.
    "kind=twin_town&status=active&country=DE&region=europe&country_pair=DE-FR",
]


@pytest.mark.parametrize("query", TWINNING_QUERIES)
def test_twinning_result_count_is_the_number_of_rows_listed(client, catalogue, query):
    response = client.get(reverse("activities:twinning-list") + f"?{query}&page_size=500")
    listed = list(response.context["object_list"])
    assert response.context["result_count"] == len(listed)
    assert f"<strong>{len(listed)}</strong> result" in response.content.decode()


def test_twinning_result_count_ignores_drafts_and_draft_places(client, catalogue):
    published = Twinning.objects.published()
    in_france = published.filter(Q(city_a__country="FR") | Q(city_b__country="FR"))
    response = client.get(reverse("activities:twinning-list") + "?country=FR")
    assert response.context["result_count"] == in_france.count() > 0
    assert Twinning.objects.filter(city_b=catalogue.hidden).exists()  # a draft place's link


def test_twinning_list_counts_its_rows_in_the_facets_pass(client, catalogue):
    """The kind, status, country, region and pair facets read one grouped pass; where
    it ran under all the page's filters, the page runs no COUNT of its own."""
    for query in ("", "?country=FR", "?region=europe&status=active"):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("activities:twinning-list") + query)
        counts = [q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(")]
        assert counts == [], query


def test_a_facet_shows_its_largest_choices_and_says_how_many_it_leaves_out(client, catalogue):
    for code, _ in list(countries)[: SHOWN + 5]:
        without_history(new_city)("Facetville", code)
    response = client.get(reverse("cities:city-list") + "?page_size=10")
    facet = next(f for f in response.context["facets"] if f.name == "country")
    counts = Counter(City.objects.published().values_list("country", flat=True))
    assert len(facet.choices) == SHOWN
    assert facet.hidden == len(counts) - SHOWN > 0
    assert [choice.count for choice in facet.choices] == sorted(counts.values())[::-1][:SHOWN]
    assert f"And {facet.hidden} smaller ones" in response.content.decode()


def grouped_passes(captured):
    """The facets' shared grouped queries (grouped by three columns or more)."""
    return [q["sql"] for q in captured if "GROUP BY 1, 2, 3" in q["sql"]]


@pytest.mark.parametrize(
    "url, query, facet, expected",
    [
        # The kind facet under a country or region filter, counted from the database.
        (
            "activities:twinning-list",
            "?country=FR",
            "kind",
            lambda: Counter(
                Twinning.objects.published()
                .filter(Q(country_a="FR") | Q(country_b="FR"))
                .values_list("kind", flat=True)
            ),
        ),
        (
            "activities:twinning-list",
            "?region=europe",
            "status",
            lambda: Counter(
                Twinning.objects.published()
                .filter(
                    Q(country_a__in=countries_in("europe"))
                    | Q(country_b__in=countries_in("europe"))
                )
                .values_list("status", flat=True)
            ),
        ),
        (
            "cities:city-list",
            "?region=europe",
            "kind",
            lambda: Counter(
                City.objects.published()
                .filter(country__in=countries_in("europe"))
                .values_list("kind", flat=True)
            ),
        ),
    ],
)
def test_a_country_or_region_filter_narrows_the_facets_pass_it_already_ran(
    client, catalogue, url, query, facet, expected
):
    """The country or region facet counts over the rows without its own filter; the
    other facets' pass under that filter is read from those rows, not queried again,
    and gives the same counts."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(url) + query)
    counts = {
        choice.value: choice.count
        for choice in next(f for f in response.context["facets"] if f.name == facet).choices
    }
    assert counts == dict(expected()) and counts
    assert response.context["result_count"] == sum(counts.values())
    assert len(grouped_passes(captured)) == 1


def published_twinning_counts():
    """Each city's number of published twinnings with a published partner, either side."""
    counts = Counter()
    for city_a, city_b in Twinning.objects.published().values_list("city_a", "city_b"):
        counts[city_a] += 1
        counts[city_b] += 1
    return counts


@pytest.mark.parametrize("descending", [True, False])
def test_city_list_sorted_by_twinnings_counts_both_sides(client, catalogue, descending):
    ordering = "-twinnings" if descending else "twinnings"
    response = client.get(reverse("cities:city-list") + f"?ordering={ordering}&page_size=500")
    rows = list(response.context["object_list"])
    expected = published_twinning_counts()
    assert [city.twinning_count for city in rows] == [expected[city.pk] for city in rows]
    keys = [(-city.twinning_count if descending else city.twinning_count, city.pk) for city in rows]
    assert keys == sorted(keys)
    assert {city.pk for city in rows} == set(City.objects.published().values_list("pk", flat=True))
    assert expected[catalogue.munich.pk] == 1  # its link to a draft place is not counted


def test_city_list_has_twinnings_facet_counts_cities_with_published_links(client, catalogue):
    response = client.get(reverse("cities:city-list") + "?region=europe")
    facet = next(f for f in response.context["facets"] if f.name == "has_twinnings")
    counts = {choice.value: choice.count for choice in facet.choices}
    twinned = published_twinning_counts()
    european = City.objects.published().in_region("europe")
    yes = sum(1 for pk in european.values_list("pk", flat=True) if twinned[pk])
    assert counts.get("true", 0) == yes > 0
    assert counts.get("false", 0) == european.count() - yes

"""List pages: status codes, odd input, constant query counts, drafts never shown."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.models import Activity, Agreement, AgreementParty, Membership, Twinning

LIST_URLS = [
    "cities:city-list",
    "activities:network-list",
    "activities:agreement-list",
    "activities:twinning-list",
    "activities:activity-list",
]

# The most queries any list page may run, whatever its size: count, rows, prefetches,
# one grouped query per facet (two for a repeatable filter with a selection), the
# catalogue version the caches are keyed by, and the lookups that validate slugs.
MAX_QUERIES = 14


@pytest.fixture
def many_records(catalogue, make_city):
    """Enough rows for a page of 10 to differ from a page of 500."""
    cities = [make_city(f"Stadt {n}", "DE", population=1000 * n) for n in range(30)]
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


ODD_QUERIES = [
    "",
    "page=3",
    "country=DE",
    "country=DE&country=fr&page=2&q=a+b",
    "q=Z%C3%BCrich+%26+co&kind=a%3Db&country=%C3%A9&page_size=10",
    "country=FR&country=FR&region=europe&country=de",
    "x%20y=1&country=+FR+&ordering=-name",
]
ODD_VALUES = [
    *["DE", "FR", "fr", " FR ", "DE-FR", "paris-fr", "a_b.c~d", "a b", "Zürich & co", "a=b&c"],
    *["é", "ＤＥ", "100%", "+", "/", "a\nb", "", "page"],
]


@pytest.mark.parametrize("query", ODD_QUERIES)
@pytest.mark.parametrize("name", ["country", "q", "page", "new name"])
def test_facet_links_built_once_per_facet_equal_the_links_built_one_by_one(query, name):
    from django.http import QueryDict

    from citydiplo.listing import Query

    page_query = Query(QueryDict(query))
    setting = page_query.linker(name)
    adding = page_query.linker(name, adding=True)
    for value in ODD_VALUES:
        assert setting(value) == page_query.setting(name, value)
        assert adding(value) == page_query.adding(name, value)


def test_facet_choices_are_escaped_links_with_grouped_counts():
    from citydiplo.facets import FacetChoice
    from citydiplo.templatetags.catalogue import facet_choices

    html = facet_choices(
        [
            FacetChoice("x", "<b>Lyon & co</b>", 12345, True, "?a=1&b=2"),
            FacetChoice("y", "Paris", 7, False, "?a=1&c=2"),
        ]
    )
    assert html == (
        '<li class="selected"><a href="?a=1&amp;b=2" aria-current="true" '
        'title="Remove this filter"><span class="facet-label"><span aria-hidden="true">✓ '
        "</span>&lt;b&gt;Lyon &amp; co&lt;/b&gt;</span> "
        '<span class="facet-count">12,345</span></a></li>'
        '<li><a href="?a=1&amp;c=2"><span class="facet-label">Paris</span> '
        '<span class="facet-count">7</span></a></li>'
    )


@pytest.mark.parametrize(
    "text",
    ["plain", "<b>\"Lyon\" & 'co'</b>", "?a=1&b=%C3%A9", "Zürich", "", 12345, None],
)
def test_facet_escaping_is_conditional_escape(text):
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from citydiplo.templatetags.catalogue import escape

    assert escape(text) == conditional_escape(text)
    if isinstance(text, str):
        assert escape(mark_safe(text)) == conditional_escape(mark_safe(text)) == text
        assert escape(gettext_lazy(text)) == conditional_escape(gettext_lazy(text))


@pytest.mark.parametrize("language", ["en", "de", "fr", "hi"])
def test_facet_counts_are_grouped_as_intcomma_groups_them(language, settings):
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.utils import translation

    from citydiplo.facets import FacetChoice
    from citydiplo.templatetags.catalogue import facet_choices

    counts = [0, 1, 7, 999, 1000, 1234, 99999, 123456, 1234567]
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override(language):
        html = facet_choices([FacetChoice("x", "X", n, False, "?") for n in counts])
        expected = [f'<span class="facet-count">{intcomma(n)}</span>' for n in counts]
    assert [part for part in expected if part in html] == expected


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


@pytest.mark.parametrize(
    "url_name",
    ["activities:agreement-list", "activities:twinning-list", "activities:activity-list"],
)
def test_pages_skip_the_prefetches_only_their_downloads_show(client, catalogue, url_name):
    cache.clear()
    with CaptureQueriesContext(connection) as page:
        assert client.get(reverse(url_name)).status_code == 200
    assert not [q for q in page.captured_queries if "_prefetch_related_val" in q["sql"]]
    response = client.get(reverse(url_name) + "?format=json")
    rows = json.loads(b"".join(response.streaming_content))["results"]
    assert rows and any(row["themes"] for row in rows)


def test_activity_download_still_names_partner_cities(client, catalogue):
    response = client.get(reverse("activities:activity-list") + "?format=json")
    rows = json.loads(b"".join(response.streaming_content))["results"]
    assert any(row["partner_cities"] for row in rows)


def test_list_querysets_built_once_are_never_evaluated(client, catalogue, make_city):
    from activities.views import CityListView

    assert client.get(reverse("cities:city-list")).status_code == 200
    assert CityListView.list_queryset(True)._result_cache is None
    make_city("Nantes", "FR", slug="nantes-fr")
    response = client.get(reverse("cities:city-list") + "?q=nantes")
    assert [row.city.slug for row in response.context["rows"]] == ["nantes-fr"]

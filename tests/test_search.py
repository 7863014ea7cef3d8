"""Search: City.objects.search (names and other names, best match first, by index), one
search across every kind of record (the QuerySet methods) and the /search/ page."""

import pytest
from django.db import connection

from activities.models import Activity, Agreement, Network, Theme, Twinning
from cities.models import City
from tests.records import without_history

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram and full-text search are PostgreSQL's"
)


def test_city_search_matches_name_and_alternate_names_in_any_case(small_catalogue):
    assert list(City.objects.search("COVEN")) == [small_catalogue["coventry"]]
    assert list(City.objects.search("cofentreu")) == [small_catalogue["coventry"]]
    assert not City.objects.search("Paris").exists()


def test_blank_search_filters_nothing(small_catalogue):
    for model in (City, Network, Agreement, Twinning, Activity, Theme):
        assert model.objects.search("  ").count() == model.objects.count()


def test_network_search_matches_acronym(small_catalogue):
    assert list(Network.objects.search("cfp")) == [small_catalogue["network"]]
    assert list(Network.objects.search("old leag")) == [small_catalogue["predecessor"]]


def test_twinning_search_finds_a_pair_from_either_city(small_catalogue):
    volgograd_link = small_catalogue["volgograd_link"]
    assert volgograd_link in Twinning.objects.search("volgo")
    assert small_catalogue["dresden_link"] in Twinning.objects.search("Cofentreu")
    assert set(Twinning.objects.search("dresden")) == {small_catalogue["dresden_link"]}


def test_agreement_activity_and_theme_search_match_titles(small_catalogue):
    assert list(Agreement.objects.search("peace p")) == [small_catalogue["pact"]]
    assert list(Activity.objects.search("ukrainian")) == [small_catalogue["activity"]]
    assert list(Theme.objects.search("PEA")) == [small_catalogue["theme"]]


def test_search_treats_like_wildcards_literally(small_catalogue):
    assert not City.objects.search("%").exists()
    assert not City.objects.search("_").exists()


def test_search_page_groups_results_by_kind_with_counts_and_list_links(client, small_catalogue):
    response = client.get("/search/", {"q": "coventry"})
    assert response.status_code == 200
    groups = {group.kind: group for group in response.context["groups"]}
    assert groups["Cities"].count == 1
    assert groups["Twinnings"].count == 2  # Volgograd and Dresden; not the draft or hidden
    assert groups["Networks"].count == 0
    assert groups["Cities"].list_url == "/cities/?q=coventry"
    assert groups["Twinnings"].list_url == "/twinnings/?q=coventry"
    assert groups["Themes"].list_url is None
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'href="/cities/coventry-gb/"' in html
    assert 'href="/cities/?q=coventry"' in html
    assert "Kiel" not in html and "Hiddenville" not in html


def test_search_page_leaves_out_drafts(client, small_catalogue):
    for query in ("Hiddenville", "Secret Pact", "Draft Network", "Draft mission"):
        response = client.get("/search/", {"q": query})
        assert response.context["total"] == 0, query
        assert "Nothing matches" in response.content.decode()


def test_search_page_finds_every_kind(client, small_catalogue):
    response = client.get("/search/", {"q": "peace"})
    counts = {group.kind: group.count for group in response.context["groups"]}
    assert counts == {
        "Cities": 0,
        "Twinnings": 0,
        "Networks": 1,
        "Agreements": 1,
        "Activities": 0,
        "Themes": 1,
    }


def test_search_page_shows_ten_per_kind_and_counts_the_rest(client, make_city):
    for n in range(14):
        make_city(f"Springfield {n}", "US")
    response = client.get("/search/", {"q": "springfield"})
    cities = response.context["groups"][0]
    assert cities.count == 14 and len(cities.results) == 10
    assert "See all 14 cities" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type a name or a word"),
        ("   ", "Type a name or a word"),
        ("\x00\x01", "Type a name or a word"),
        ("x" * 201, "too long"),
    ],
)
def test_search_page_explains_unusable_queries(client, db, query, message):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert html.count("<h1") == 1
    assert response.context["groups"] == []


@pytest.mark.parametrize("query", ["cov\x00entry", "' OR 1=1 --", "%_%", "東京", "<script>"])
def test_search_page_copes_with_odd_queries(client, small_catalogue, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("</header>", 1)[1]


def test_search_page_without_a_query_shows_the_form_only(client, db):
    response = client.get("/search/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="search-q"' in html
    assert "Type a name" not in html


def test_search_repeated_parameter_uses_the_last(client, small_catalogue):
    response = client.get("/search/?q=zzz&q=dresden")
    assert response.context["query"] == "dresden"


def test_search_query_count_is_fixed(
    client, small_catalogue, make_city, django_assert_max_num_queries
):
    for n in range(30):
        without_history(make_city)(f"Coventry copy {n}", "GB")  # search reads no history
    # 6 kinds, their rows and the cities' count (over ten); 1: the catalogue version;
    # 4: the names of networks, agreements, activities and themes, ranked in Python
    # (activities.search). Twinnings are named by their own columns: no place is read.
    with django_assert_max_num_queries(7 + 1 + 4):
        response = client.get("/search/", {"q": "coventry"})
        groups = {group.kind: group for group in response.context["groups"]}
        names = sorted(str(twinning) for twinning in groups["Twinnings"].results)
    assert names == ["Coventry – Volgograd", "Dresden – Coventry"]


def test_a_renamed_place_renames_its_twinnings_in_search_results(client, small_catalogue):
    coventry = small_catalogue["coventry"]
    coventry.name = "Coventry City"
    coventry.save()
    html = client.get("/search/", {"q": "volgograd"}).content.decode()
    assert "Coventry City – Volgograd" in html


def test_search_needs_every_word_somewhere(small_catalogue):
    assert list(Twinning.objects.search("coventry volgograd")) == [
        small_catalogue["volgograd_link"]
    ]
    assert list(Network.objects.search('"cities for" cfp')) == [small_catalogue["network"]]
    assert not City.objects.search("coventry paris").exists()


def test_twinning_search_leaves_out_pairs_with_a_draft_place_on_either_side(make_city):
    hub = make_city("Hubtown", "DE")
    shown = Twinning.objects.create(city_a=hub, city_b=make_city("Openville", "FR"))
    Twinning.objects.create(city_a=hub, city_b=make_city("Draftburg", "FR", review_state="draft"))
    Twinning.objects.create(city_a=make_city("Draftdorf", "AT", review_state="draft"), city_b=hub)
    Twinning.objects.create(city_a=hub, city_b=make_city("Elsewhere", "PL"), review_state="draft")
    found = Twinning.objects.published().search("hubtown")
    assert list(found) == [shown]
    assert found.count() == 1
    assert list(Twinning.objects.published().involving(hub)) == [shown]


# City.objects.search ------------------------------------------------------------------


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


def test_blank_city_search_filters_nothing(places):
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

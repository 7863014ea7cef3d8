"""Every name a place goes by, found spelling-tolerantly, best match first, on SQLite and
PostgreSQL alike; places picked by name in the list filters; the autocomplete."""

import copy
import json
from pathlib import Path

import pytest
from django.db import connection
from django.utils.text import slugify

from activities.models import Activity, Agreement, AgreementParty, Membership, Twinning
from cities.gazetteer import Gazetteer, us_states
from cities.models import City, CityName, NameSource
from cities.names import normalise
from tests.records import records_for_the_module, without_history

DATA = Path(__file__).parent / "data" / "geonames_names.json"
# The catalogue calls a few places by their English name, not GeoNames' own.
CATALOGUE_NAMES = {2886242: "Cologne"}


@pytest.fixture(scope="session")
def gazetteer():
    return Gazetteer(rows=json.loads(DATA.read_text("utf-8")))


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, gazetteer):
    with records_for_the_module(
        django_db_blocker, without_history(lambda: write_world(gazetteer))
    ) as places:
        yield places


@pytest.fixture
def world(module_world, db):
    """The places of tests/data/geonames_names.json, each with the other names GeoNames
    gives it (as load_catalogue and import_twinnings add them), by GeoNames id; written
    once for the module (conftest.py)."""
    return copy.deepcopy(module_world)


def write_world(gazetteer):
    places = {}
    for row in json.loads(DATA.read_text("utf-8")):
        geonames_id = int(row["geonameid"])
        name = CATALOGUE_NAMES.get(geonames_id, row["name"])
        country = row["countrycode"]
        subdivision = us_states().get(row["admin1code"], "") if country == "US" else ""
        places[geonames_id] = City.objects.create(
            name=name,
            country=country,
            subdivision=subdivision,
            slug=slugify(f"{name} {subdivision} {country}"),
            population=row["population"],
            geonames_id=geonames_id,
        )
    CityName.objects.add(
        [(city.pk, n) for gid, city in places.items() for n in gazetteer.other_names(gid)],
        NameSource.GEONAMES,
    )
    places["draft"] = City.objects.create(
        name="Lyonville", country="FR", slug="lyonville-fr", review_state="draft"
    )
    return places


KYIV, MUNICH, COLOGNE, MUMBAI, NEW_YORK = 703448, 2867714, 2886242, 1275339, 5128581
PETERSBURG, PETERSBURG_FL, LYON, ST_POLTEN, ZURICH = 498817, 4171563, 2996944, 2766429, 2657896
LAQUILA, FRANKFURT, SAINT_DENIS = 3175121, 2925533, 2980916


def first(query):
    return City.objects.published().search(query).first()


# The one normalisation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spellings", "folded"),
    [
        (["München", "Muenchen", "MUNCHEN", "Münchén"], "munchen"),
        (["Köln", "Koeln", "koln"], "koln"),
        (["Straße", "Strasse", "STRASSE"], "strasse"),
        (
            ["Saint Petersburg", "St Petersburg", "St. Petersburg", "Sankt-Petersburg"],
            "stpetersburg",
        ),
        (["San Francisco", "St. Francisco"], "stfrancisco"),
        (["L'Aquila", "L’Aquila", "LAquila", "l aquila"], "laquila"),
        (["Saint-Denis", "Saint Denis", "St-Denis"], "stdenis"),
        (["Kraków", "Krakow", "KRAKÓW"], "krakow"),
        (["Timișoara", "Timişoara"], "timisoara"),
        (["Мюнхен", "мюнхен"], "мюнхен"),
    ],
)
def test_spellings_of_one_name_normalise_alike(spellings, folded):
    assert {normalise(spelling) for spelling in spellings} == {folded}


def test_a_saint_word_typed_last_is_still_a_prefix():
    # "San" alone may be the start of Santiago; before another word it is a saint.
    assert normalise("San") == "san"
    assert normalise("San Diego") == "stdiego"


def test_names_without_letters_normalise_to_nothing():
    assert normalise("%_%") == normalise("  ") == normalise("'-.") == ""


# Finding places by any name ---------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "place"),
    [
        ("Kiev", KYIV),
        ("Kiew", KYIV),
        ("Київ", KYIV),
        ("Muenchen", MUNICH),
        ("München", MUNICH),
        ("Monaco di Baviera", MUNICH),
        ("Köln", COLOGNE),
        ("Koeln", COLOGNE),
        ("Bombay", MUMBAI),
        ("Leningrad", PETERSBURG),
        ("new york", NEW_YORK),
        ("NYC", NEW_YORK),
        ("saint petersburg", PETERSBURG),
        ("St Petersburg", PETERSBURG),
        ("St. Petersburg", PETERSBURG),
        ("Sankt-Peterburg", PETERSBURG),
        ("St Pölten", ST_POLTEN),
        ("Sankt Poelten", ST_POLTEN),
        ("Zurich", ZURICH),
        ("Zuerich", ZURICH),
        ("L Aquila", LAQUILA),
        ("laquila", LAQUILA),
        ("Frankfurt", FRANKFURT),
        ("St-Denis", SAINT_DENIS),
        ("lyo", LYON),
    ],
)
def test_search_finds_a_place_by_any_of_its_names_first(world, query, place):
    assert first(query) == world[place]


def test_search_ranks_exact_then_prefix_then_contains_then_population(world):
    results = list(City.objects.published().search("york"))
    assert [city.match for city in results] == sorted(city.match for city in results)
    assert results[0] == world[NEW_YORK]  # "York" is one of its names; the most populous
    petersburgs = list(City.objects.published().search("st petersburg"))
    assert petersburgs[:2] == [world[PETERSBURG], world[PETERSBURG_FL]]
    springfields = list(City.objects.published().search("Springfield"))
    populations = [city.population for city in springfields]
    assert len(springfields) == 7 and populations == sorted(populations, reverse=True)


def test_search_pins_the_same_order_on_both_databases(world):
    # This very list passes on SQLite and on PostgreSQL.
    assert [(c.slug, c.match) for c in City.objects.published().search("amher")] == [
        ("amherst-new-york-us", 1),
        ("amherst-massachusetts-us", 1),
    ]
    assert [c.slug for c in City.objects.published().search("springfield")][:3] == [
        "springfield-missouri-us",
        "springfield-massachusetts-us",
        "springfield-illinois-us",
    ]


def test_search_of_several_words_matches_name_and_place(world):
    assert list(City.objects.published().search("Portland Maine")) == [
        City.objects.get(slug="portland-maine-us")
    ]
    assert first("paris us") == City.objects.get(slug="paris-texas-us")
    assert not City.objects.published().search("kyiv paris").exists()


def test_search_leaves_out_drafts_and_finds_nothing_for_nonsense(world):
    assert not City.objects.published().search("Lyonville").exists()
    assert not City.objects.published().search("qqqzzz").exists()


def test_the_index_follows_every_write(world):
    kyiv = world[KYIV]
    # A bulk write, an update, raw SQL and a delete all reach the index.
    CityName.objects.add([(kyiv.pk, "Kyjiw-Hauptstadt")], NameSource.EDITOR)
    assert first("hauptstadt") == kyiv
    CityName.objects.filter(name="Kyjiw-Hauptstadt").update(folded=normalise("Kyivgrad"))
    assert first("kyivgrad") == kyiv and first("hauptstadt") is None
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cities_cityname SET folded = %s WHERE name = %s",
            [normalise("Kievopolis"), "Kyjiw-Hauptstadt"],
        )
    assert first("kievopolis") == kyiv and first("kyivgrad") is None
    CityName.objects.filter(name="Kyjiw-Hauptstadt").delete()
    assert first("kievopolis") is None


def test_renaming_a_city_keeps_its_main_name_in_step(world):
    lyon = world[LYON]
    lyon.name = "Lyons-sur-Rhône"
    lyon.save()
    assert first("lyons sur rhone") == lyon
    assert lyon.names.filter(source=NameSource.MAIN).get().name == "Lyons-sur-Rhône"
    assert first("Lugdunum") == lyon  # its other names stay with it


def test_a_new_city_gets_its_main_name_in_one_insert(db, django_assert_num_queries):
    # The city's row, its history row and its main name: nothing to compare with the
    # names it had, no twinning to follow (a saved city's rename reads both).
    with django_assert_num_queries(3):
        city = City.objects.create(name="Sankt Pölten", slug="sankt-polten-at", country="AT")
    assert list(city.names.values_list("name", "folded", "source")) == [
        ("Sankt Pölten", normalise("Sankt Pölten"), NameSource.MAIN)
    ]
    assert first("saint polten") == city
    city.name = "St. Pölten"
    city.save()
    assert list(city.names.values_list("name", "source")) == [("St. Pölten", NameSource.MAIN)]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_sqlite_search_never_scans_the_names(world):
    # The plan follows SQLite's statistics: gather them for this world, so statistics a
    # load_catalogue earlier in the same test database left behind cannot decide it.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    for query in ("Kiev", "ly", "new york"):
        sql, params = City.objects.published().search(query).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " / ".join(row[-1] for row in cursor.fetchall())
        assert "SCAN U0" not in plan and "SCAN cities_cityname " not in plan, plan


def test_closest_names_for_a_misspelling(world):
    assert [city for _name, city in CityName.objects.closest("Kyyiv")][:1] == [world[KYIV]]
    assert [city for _name, city in CityName.objects.closest("Lyonn")][:1] == [world[LYON]]
    assert CityName.objects.closest("qq") == []


def test_other_kinds_rank_their_names_the_same_way(db):
    from activities.models import Network

    Network.objects.create(name="Eurocities", slug="eurocities", scope="regional")
    Network.objects.create(name="Eurocitiez Youth", slug="ecz-youth", scope="regional")
    Network.objects.create(name="Zeurocitiez", slug="zeurocitiez", scope="regional")
    Network.objects.create(name="Eurocitiez", acronym="ECZ", slug="ecz", scope="regional")
    names = [n.name for n in Network.objects.search("eurocitiez")]
    assert names == ["Eurocitiez", "Eurocitiez Youth", "Zeurocitiez"]
    assert [n.name for n in Network.objects.search("ecz")][:1] == ["Eurocitiez"]


# The site search ---------------------------------------------------------------------


def test_site_search_finds_a_place_by_an_older_name(client, world):
    response = client.get("/search/", {"q": "Bombay"})
    cities = response.context["groups"][0]
    assert cities.results == [world[MUMBAI]]


def test_site_search_with_no_result_suggests_the_closest_names(client, world):
    response = client.get("/search/", {"q": "Kyyiv"})
    assert response.context["total"] == 0
    html = response.content.decode()
    assert 'Did you mean <a href="?q=Kyiv">Kyiv</a> (Ukraine)' in html


# Places picked by name in the filters --------------------------------------------------


@pytest.fixture
def twinned_world(world, source):
    lyon, munich, kyiv = world[LYON], world[MUNICH], world[KYIV]
    springfield = City.objects.get(slug="springfield-illinois-us")
    for a, b in ((lyon, munich), (munich, kyiv), (kyiv, springfield)):
        Twinning.objects.create(city_a=a, city_b=b).sources.add(source)
    return world


def test_a_typed_name_is_used_and_the_url_keeps_the_slug(client, twinned_world):
    response = client.get("/twinnings/", {"city": "Muenchen"})
    assert response.status_code == 302
    assert response["Location"] == "/twinnings/?city=munich-de"
    response = client.get(response["Location"])
    assert response.context["result_count"] == 2
    assert [f.value for f in response.context["active_filters"]] == ["Munich (DE)"]


def test_two_places_typed_by_name_pick_the_pair(client, twinned_world):
    response = client.get("/twinnings/", {"city": "Kiev", "partner": "München"})
    assert response["Location"] == "/twinnings/?city=kyiv-ua&partner=munich-de"
    assert client.get(response["Location"]).context["result_count"] == 1


def test_an_ambiguous_name_offers_the_places_with_country_and_subdivision(client, twinned_world):
    response = client.get("/twinnings/", {"city": "Springfield"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“Springfield” names 7 places: choose one." in html
    assert '<a href="?city=springfield-missouri-us">Springfield (Missouri, United States' in html
    assert "Springfield (Illinois, United States of America)" in html
    assert response.context["result_count"] == 3  # the filter is left out, and says why


def test_an_unknown_name_explains_itself_and_suggests(client, twinned_world):
    html = client.get("/twinnings/", {"city": "Lyonn"}).content.decode()
    assert "No published place is called “Lyonn”. Did you mean Lyon?" in html
    assert '<a href="?city=lyon-fr">Lyon (France)</a>' in html
    html = client.get("/twinnings/", {"city": "Qqqzzz"}).content.decode()
    assert "No published place is called “Qqqzzz”." in html
    html = client.get("/twinnings/", {"city": "Lyonville"}).content.decode()  # a draft
    assert "No published place is called “Lyonville”." in html


def test_a_slug_still_filters_without_a_redirect(client, twinned_world):
    response = client.get("/twinnings/", {"city": "lyon-fr"})
    assert response.status_code == 200 and response.context["result_count"] == 1


def test_every_filter_taking_a_place_takes_a_name(client, twinned_world, source):
    lyon = twinned_world[LYON]
    agreement = Agreement.objects.create(title="Pact", slug="pact", kind="pact")
    agreement.sources.add(source)
    AgreementParty.objects.create(agreement=agreement, city=lyon, action="signed")
    activity = Activity.objects.create(title="Mission", slug="mission", kind="summit")
    activity.lead_city = lyon
    activity.save()
    network = twinned_world["draft"]  # placeholder to keep names short below
    del network
    from activities.models import Network

    network = Network.objects.create(name="Net", slug="net", scope="global")
    network.sources.add(source)
    Membership.objects.create(network=network, city=lyon)
    for url, name in (
        ("/agreements/", "city"),
        ("/activities/", "city"),
        ("/networks/", "member"),
        ("/twinnings/", "partner"),
    ):
        response = client.get(url, {name: "Lyon"})
        assert response["Location"] == f"{url}?{name}=lyon-fr", url
        assert client.get(response["Location"]).context["result_count"] == 1, url


def test_the_place_field_is_a_labelled_text_input_that_works_without_scripts(client, twinned_world):
    html = client.get("/twinnings/").content.decode()
    assert '<label for="id_city">City (either side):</label>' in html
    assert 'type="text" name="city"' in html
    assert 'data-place-picker="/cities/autocomplete/"' in html
    assert "js/place-picker.js" in html


# The autocomplete -----------------------------------------------------------------------


def test_autocomplete_serves_published_places_best_first(client, world):
    response = client.get("/cities/autocomplete/", {"q": "lyon"})
    assert response["Content-Type"] == "application/json"
    results = response.json()["results"]
    assert results == [{"slug": "lyon-fr", "name": "Lyon", "label": "Lyon (France)"}]
    results = client.get("/cities/autocomplete/", {"q": "springf"}).json()["results"]
    assert results[0]["label"] == "Springfield (Missouri, United States of America)"
    assert len(results) == 7
    assert client.get("/cities/autocomplete/", {"q": "kiev"}).json()["results"][0]["slug"] == (
        "kyiv-ua"
    )


def test_autocomplete_answers_blank_and_odd_queries(client, world):
    for query in ("", "   ", "%_%", "\x00", "x" * 500):
        response = client.get("/cities/autocomplete/", {"q": query})
        assert response.status_code == 200 and response.json()["results"] == []


def test_autocomplete_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        client.get("/cities/autocomplete/", {"q": "sp"})


# Editors --------------------------------------------------------------------------------


def test_editors_add_names_in_the_city_admin(admin_client, world):
    kyiv = world[KYIV]
    page = admin_client.get(f"/admin/cities/city/{kyiv.pk}/change/").content.decode()
    assert 'name="names-TOTAL_FORMS"' in page and "Kiev" in page


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 table")
def test_the_names_index_keeps_its_triggers(db):
    # A migration that recreates cities_cityname on SQLite drops them: it must end by
    # creating them again (see migration cities 0005_i14_city_names).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            ["cities_cityname_fts%"],
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {f"cities_cityname_fts_{event}" for event in ("insert", "delete", "update")}

"""The analysis page and the graph exports: figures on small known graphs, the same
rows as the twinnings list, downloads that parse back."""

import csv
import io
import json

import networkx as nx
import pytest

from activities import analysis
from activities.models import Membership, Network, Twinning

pytestmark = pytest.mark.django_db


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def star_and_path(make_city, source):
    """Hub twinned with three cities; one of them twinned on with a fifth (a path
    hub - leaf - end), two countries, one twinning undated and one a draft."""
    hub = make_city("Hub", "DE", slug="hub-de", latitude="50.1", longitude="8.7", population=700)
    leaves = [make_city(f"Leaf {n}", "FR", slug=f"leaf-{n}-fr") for n in range(3)]
    end = make_city("End", "FR", slug="end-fr")
    hidden = make_city("Hidden", "FR", slug="hidden-fr")
    for year, leaf in zip((1960, 1975, None), leaves, strict=True):
        Twinning.objects.create(city_a=hub, city_b=leaf, start_year=year).sources.add(source)
    Twinning.objects.create(city_a=end, city_b=leaves[0], start_year=1991).sources.add(source)
    Twinning.objects.create(city_a=hub, city_b=hidden, review_state="draft")
    return hub, leaves, end


def test_centrality_of_a_path_puts_the_middle_city_first(star_and_path):
    graph = analysis.twinning_graph(Twinning.objects.published())
    result = analysis.centrality(graph)
    assert (result.nodes, result.edges, result.betweenness_sampled) == (5, 4, 0)
    hub = result.cities[0]
    assert (hub.slug, hub.partners) == ("hub-de", 3)
    # Hub lies on the paths between its 4 neighbours-or-beyond: 5 of 6 pairs, normalised.
    assert hub.betweenness == pytest.approx(5 / 6)
    leaf0 = next(city for city in result.cities if city.slug == "leaf-0-fr")
    assert leaf0.betweenness == pytest.approx(3 / 6)
    assert hub.eigenvector > leaf0.eigenvector > 0


def test_centrality_of_a_single_twinning_is_even_and_the_page_answers(client, make_city, source):
    # A filter can leave one twinning: scipy's sparse solver then falls back to the dense
    # one with a RuntimeWarning, which once turned the page into a 500.
    a, b = make_city("Only A", "DE", slug="only-a-de"), make_city("Only B", "FR", slug="only-b-fr")
    Twinning.objects.create(city_a=a, city_b=b, start_year=1990).sources.add(source)
    result = analysis.centrality(analysis.twinning_graph(Twinning.objects.published()))
    assert [city.eigenvector for city in result.cities] == pytest.approx([2**-0.5, 2**-0.5])
    response = client.get("/analysis/", {"country": "DE"})
    assert response.status_code == 200
    assert "Only A" in response.content.decode()


def test_country_pair_matrix_sums_to_the_twinning_count(star_and_path):
    twinnings = Twinning.objects.published()
    matrix = analysis.country_pair_matrix(twinnings, top=1)
    assert matrix.countries == ["FR", analysis.OTHER]
    assert matrix.cells == [[1, 3], [3, 0]]
    upper = sum(matrix.cells[i][j] for i in range(2) for j in range(i, 2))
    assert upper == matrix.total == twinnings.count() == 4


def test_decades_say_how_many_twinnings_could_be_dated(star_and_path):
    decades = analysis.started_per_decade(Twinning.objects.published())
    assert (decades.dated, decades.total) == (3, 4)
    assert decades.rows == [("1960s", 1), ("1970s", 1), ("1980s", 0), ("1990s", 1)]


def test_network_overlap_counts_shared_member_cities(make_city, source):
    a, b, c = (make_city(f"City {n}") for n in "abc")
    first = Network.objects.create(name="First", slug="first", scope="global")
    second = Network.objects.create(name="Second", slug="second", scope="global")
    for network, cities in ((first, (a, b, c)), (second, (b, c))):
        for city in cities:
            Membership.objects.create(network=network, city=city)
    Membership.objects.create(network=second, city=a, role="board")  # a city counts once
    Membership.objects.filter(network=second, city=a).update(review_state="draft")
    overlap = analysis.network_overlap(Membership.objects.published())
    assert [slug for slug, _label, _n in overlap.networks] == ["first", "second"]
    assert overlap.cells == [[3, 2], [2, 2]]


def test_analysis_page_shows_every_table_for_a_filter(client, star_and_path):
    response = client.get("/analysis/", {"country": "DE"})
    assert response.status_code == 200
    text = response.content.decode()
    assert text.count("<h1>") == 1
    assert "Dated: 2 of 3 twinnings." in text
    assert 'href="/cities/hub-de/"' in text
    assert "Leaf 0" in text and "End" not in text.split("Most connected")[1].split("</table>")[0]
    assert "Twinnings between countries, as a heat map" in text


def test_analysis_tables_download_as_csv(client, star_and_path):
    response = client.get("/analysis/", {"download": "centrality"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["city", "name", "country", "partners", "betweenness", "eigenvector"]
    assert rows[1][:4] == ["hub-de", "Hub", "DE", "3"]
    pairs = list(
        csv.reader(io.StringIO(client.get("/analysis/?download=country-pairs").content.decode()))
    )
    assert pairs[0] == ["country", "FR", "DE"]
    assert pairs[1:] == [["FR", "1", "3"], ["DE", "3", "0"]]


def test_unknown_analysis_download_is_a_clear_400(client, star_and_path):
    response = client.get("/analysis/", {"download": "<script>"})
    assert response.status_code == 400
    assert b"Unknown download" in response.content


def test_invalid_filter_on_analysis_page_is_explained_not_500(client, star_and_path):
    response = client.get("/analysis/", {"year_min": "soon"})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_graph_exports_parse_back_to_exactly_the_filtered_twinnings(client, star_and_path, fmt):
    response = client.get("/twinnings/", {"country": "DE", "format": fmt})
    assert response.status_code == 200
    assert f".{fmt}" in response["Content-Disposition"]
    read = nx.read_gexf if fmt == "gexf" else nx.read_graphml
    graph = read(io.BytesIO(body(response)))
    expected = {
        frozenset((t.city_a.slug, t.city_b.slug))
        for t in Twinning.objects.published().filter(city_a__country="DE")
    }
    assert {frozenset(edge) for edge in graph.edges} == expected
    hub = graph.nodes["hub-de"]
    assert hub["name"] == "Hub"
    assert hub["country"] == "DE" and hub["population"] == 700
    assert float(hub["latitude"]) == pytest.approx(50.1)
    edge = graph.edges["hub-de", "leaf-0-fr"]
    assert (edge["kind"], edge["status"], str(edge["start"])) == ("twin_town", "active", "1960")


def test_unknown_list_format_names_the_graph_formats(client, star_and_path):
    response = client.get("/twinnings/", {"format": "dot"})
    assert response.status_code == 400
    assert b"format=gexf" in response.content and b"format=graphml" in response.content


def test_membership_graph_is_bipartite_cities_and_networks(make_city):
    a, b = make_city("Alpha", "DE", slug="alpha-de"), make_city("Beta", "FR", slug="beta-fr")
    network = Network.objects.create(name="Ring", slug="ring", acronym="RNG", scope="global")
    Membership.objects.create(network=network, city=a, joined_year=1990)
    Membership.objects.create(network=network, city=b, role="board", left_year=2001)
    graph = analysis.membership_graph(Membership.objects.published())
    assert nx.is_bipartite(graph)
    assert set(graph.nodes) == {"alpha-de", "beta-fr", "network:ring"}
    assert graph.nodes["network:ring"]["acronym"] == "RNG"
    assert graph.edges["alpha-de", "network:ring"]["joined"] == 1990
    assert graph.edges["beta-fr", "network:ring"]["role"] == "board"


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_graph_exports_keep_hostile_names_as_text(client, make_city, source, fmt):
    name = "Evil \"<b>&amp;</b>\" 'Town'"
    evil = make_city(name, "FR", slug="evil-fr")
    other = make_city("Other", "DE", slug="other-de")
    Twinning.objects.create(city_a=evil, city_b=other).sources.add(source)
    response = client.get("/twinnings/", {"format": fmt})
    read = nx.read_gexf if fmt == "gexf" else nx.read_graphml
    graph = read(io.BytesIO(body(response)))
    assert graph.nodes["evil-fr"]["name"] == name
    assert "latitude" not in graph.nodes["evil-fr"]  # unknown stays unknown


def test_eigenvector_is_left_blank_outside_the_largest_component(star_and_path, make_city):
    lone_a, lone_b = make_city("Lone A", "IT"), make_city("Lone B", "IT")
    Twinning.objects.create(city_a=lone_a, city_b=lone_b)
    result = analysis.centrality(analysis.twinning_graph(Twinning.objects.published()))
    by_name = {city.name: city for city in result.cities}
    assert result.giant == 5
    assert by_name["Lone A"].eigenvector is None
    assert by_name["Hub"].eigenvector > 0


def test_geojson_of_a_filtered_twinnings_list_has_a_line_per_located_twinning(
    client, star_and_path
):
    response = client.get("/twinnings/", {"country": "DE", "format": "geojson"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(body(response))
    # Only the hub has coordinates in this fixture: no twinning can be drawn.
    assert collection == {"type": "FeatureCollection", "features": []}


def test_geojson_lines_join_both_places_the_short_way_round(client, make_city, source):
    tokyo = make_city("Tokyo", "JP", slug="tokyo-jp", latitude="35.69", longitude="139.69")
    sf = make_city("San Francisco", "US", slug="sf-us", latitude="37.77", longitude="-122.42")
    Twinning.objects.create(city_a=tokyo, city_b=sf).sources.add(source)
    collection = json.loads(body(client.get("/twinnings/", {"format": "geojson"})))
    (feature,) = collection["features"]
    assert feature["geometry"]["coordinates"] == [
        [139.69, 35.69],
        [pytest.approx(237.58), 37.77],
    ]
    assert feature["properties"]["city_a_name"] == "Tokyo"
    cities = json.loads(body(client.get("/cities/", {"format": "geojson", "country": "JP"})))
    assert [f["properties"]["slug"] for f in cities["features"]] == ["tokyo-jp"]
    assert cities["features"][0]["geometry"]["coordinates"] == [139.69, 35.69]


@pytest.mark.parametrize("fmt", ["gexf", "graphml"])
def test_membership_list_exports_a_bipartite_graph_of_exactly_its_rows(
    client, small_catalogue, fmt
):
    response = client.get("/memberships/", {"country": "DE", "format": fmt})
    assert response.status_code == 200
    read = nx.read_gexf if fmt == "gexf" else nx.read_graphml
    graph = read(io.BytesIO(body(response)))
    expected = {
        (m.city.slug, f"network:{m.network.slug}")
        for m in Membership.objects.published().filter(city__country="DE")
    }
    assert {
        tuple(sorted(edge, key=lambda n: n.startswith("network:"))) for edge in graph.edges
    } == expected
    assert expected  # Dresden, a published member


def test_membership_list_map_has_a_point_per_located_member(client, small_catalogue):
    response = client.get("/memberships/", {"format": "geojson"})
    collection = json.loads(body(response))
    slugs = {f["properties"]["slug"] for f in collection["features"]}
    assert slugs == {"coventry-gb", "dresden-de", "volgograd-ru"}
    page = client.get("/memberships/").content.decode()
    assert "data-list-map=" in page and "format=geojson" in page

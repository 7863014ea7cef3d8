"""The second diplomatic map as a network: who is central, which country pairs tie
most, how ties grew, which networks share members.

Everything here takes querysets the list pages already filter (a filtered twinnings
queryset, the published memberships) and returns plain rows for the analysis page, its
CSV downloads and the graph exports. Graph measures come from networkx.
"""

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

import networkx as nx
from django.db.models import Count

from citydiplo import maps

#: Above this many nodes, betweenness is estimated from a fixed sample of source nodes
#: (networkx's `k`): exact betweenness is O(nodes x edges), about a minute on the
#: imported world; 100 sources take about 4 s there and rank the top cities alike.
EXACT_BETWEENNESS_MAX_NODES = 1500
BETWEENNESS_SAMPLE = 100
BETWEENNESS_SEED = 2021  # a fixed seed, so the same data always gives the same figures

TWINNING_NODE_FIELDS = ("slug", "name", "country", "latitude", "longitude", "population")


def twinning_graph(twinnings):
    """An undirected graph of the given twinnings: one node per city (keyed by slug,
    with name, country, coordinates and population), one edge per twinning (with its
    kind, status and start date as the record gives it)."""
    graph = nx.Graph()
    side = {name: f"city_{{}}__{name}" for name in TWINNING_NODE_FIELDS}
    fields = [
        "pk",
        "kind",
        "status",
        "start_year",
        "start_on",
        *(side[name].format("a") for name in TWINNING_NODE_FIELDS),
        *(side[name].format("b") for name in TWINNING_NODE_FIELDS),
    ]
    width = len(TWINNING_NODE_FIELDS)
    nodes, edges = {}, []
    for row in twinnings.order_by().values_list(*fields):
        pk, kind, status, start_year, start_on = row[:5]
        a, b = row[5 : 5 + width], row[5 + width :]
        for city in (a, b):
            if city[0] not in nodes:
                nodes[city[0]] = dict(zip(TWINNING_NODE_FIELDS[1:], city[1:], strict=True))
        start = start_on.isoformat() if start_on else (str(start_year) if start_year else "")
        edges.append((a[0], b[0], {"id": pk, "kind": kind, "status": status, "start": start}))
    graph.add_nodes_from(nodes.items())
    graph.add_edges_from(edges)
    return graph


@dataclass
class CentralCity:
    slug: str
    name: str
    country: str
    partners: int
    betweenness: float
    eigenvector: float | None  # None outside the largest connected component


@dataclass
class Centrality:
    cities: list
    nodes: int
    edges: int
    betweenness_sampled: int  # 0 when exact
    giant: int = 0  # cities in the largest connected component


def centrality(graph, limit=25):
    """The `limit` cities with most partners, with betweenness and eigenvector centrality
    over the whole graph (both normalised, as networkx gives them)."""
    nodes = graph.number_of_nodes()
    if not nodes:
        return Centrality(cities=[], nodes=0, edges=0, betweenness_sampled=0)
    sample = BETWEENNESS_SAMPLE if nodes > EXACT_BETWEENNESS_MAX_NODES else None
    betweenness = nx.betweenness_centrality(graph, k=sample, seed=BETWEENNESS_SEED)
    giant = graph.subgraph(max(nx.connected_components(graph), key=len))
    eigenvector = eigenvector_centrality(giant)
    top = sorted(graph.degree, key=lambda item: (-item[1], graph.nodes[item[0]]["name"]))
    cities = [
        CentralCity(
            slug=slug,
            name=graph.nodes[slug]["name"],
            country=graph.nodes[slug]["country"],
            partners=degree,
            betweenness=betweenness[slug],
            eigenvector=eigenvector.get(slug),
        )
        for slug, degree in top[:limit]
    ]
    return Centrality(
        cities=cities,
        nodes=nodes,
        edges=graph.number_of_edges(),
        betweenness_sampled=sample or 0,
        giant=giant.number_of_nodes(),
    )


def eigenvector_centrality(graph):
    """Eigenvector centrality of a connected graph (on a disconnected one the leading
    eigenvector lives in one component and says nothing of the others)."""
    if graph.number_of_edges() == 0:
        return dict.fromkeys(graph, 0.0)
    try:
        if graph.number_of_nodes() < 3:
            # scipy's sparse eigensolver needs three nodes or more (it raises TypeError
            # on two: a filter leaving one twinning made the page a 500).
            return nx.eigenvector_centrality(graph)
        return nx.eigenvector_centrality_numpy(graph)
    except (nx.NetworkXException, ArithmeticError):  # e.g. no convergence
        return dict.fromkeys(graph, 0.0)


@dataclass
class PairMatrix:
    countries: list  # codes, most twinned first, then "" for all the others
    cells: list  # rows of counts, symmetric; cells[i][j] for countries i and j
    total: int

    @property
    def max_count(self):
        return max((max(row) for row in self.cells), default=0)


OTHER = ""  # the matrix's last row and column: every country outside the top


def country_pair_matrix(twinnings, top=12):
    """Twinning counts between the `top` countries with most twinnings and all others
    together (the last row and column), so the matrix's upper triangle with the diagonal
    sums to the number of twinnings."""
    pairs = Counter()
    for first, second, count in (
        twinnings.order_by()
        .values_list("city_a__country", "city_b__country")
        .annotate(count=Count("pk"))
    ):
        pairs[tuple(sorted((first, second)))] += count
    per_country = Counter()
    for (first, second), count in pairs.items():
        per_country[first] += count
        if second != first:
            per_country[second] += count
    ranked = [code for code, _count in sorted(per_country.items(), key=lambda i: (-i[1], i[0]))]
    shown = ranked[:top]
    others = len(ranked) > top
    axis = shown + ([OTHER] if others else [])
    index = {code: i for i, code in enumerate(shown)}
    cells = [[0] * len(axis) for _ in axis]
    for (first, second), count in pairs.items():
        i = index.get(first, len(shown))
        j = index.get(second, len(shown))
        cells[i][j] += count
        if i != j:
            cells[j][i] += count
    return PairMatrix(countries=axis, cells=cells, total=sum(pairs.values()))


@dataclass
class DecadeCounts:
    rows: list  # (decade label, count), every decade from the first to the last
    dated: int
    total: int


def started_per_decade(twinnings):
    """Ties started per decade, and how many of them could be dated at all."""
    total = twinnings.count()
    per_decade = dict(
        twinnings.filter(start_year__isnull=False)
        .order_by()
        .values_list("start_year")
        .annotate(count=Count("pk"))
        .values_list("start_year", "count")
    )
    decades = Counter()
    for year, count in per_decade.items():
        decades[year // 10 * 10] += count
    rows = []
    if decades:
        rows = [
            (f"{decade}s", decades.get(decade, 0))
            for decade in range(min(decades), max(decades) + 10, 10)
        ]
    return DecadeCounts(rows=rows, dated=sum(decades.values()), total=total)


@dataclass
class Overlap:
    networks: list  # (slug, name or acronym, member cities)
    cells: list  # cells[i][j]: cities in both networks i and j; the diagonal: members


def network_overlap(memberships, top=12):
    """How many cities each two of the `top` largest networks share, from published
    memberships (a city counts once per network whatever its roles)."""
    members = {}
    labels = {}
    for slug, acronym, name, city in (
        memberships.order_by()
        .values_list("network__slug", "network__acronym", "network__name", "city_id")
        .distinct()
    ):
        members.setdefault(slug, set()).add(city)
        labels[slug] = acronym or name
    ranked = sorted(members, key=lambda slug: (-len(members[slug]), labels[slug]))[:top]
    cells = [[0] * len(ranked) for _ in ranked]
    for i, slug in enumerate(ranked):
        cells[i][i] = len(members[slug])
    for (i, first), (j, second) in combinations(enumerate(ranked), 2):
        shared = len(members[first] & members[second])
        cells[i][j] = cells[j][i] = shared
    return Overlap(
        networks=[(slug, labels[slug], len(members[slug])) for slug in ranked], cells=cells
    )


# Tables as downloads -------------------------------------------------------------------


def centrality_table(result):
    header = ["city", "name", "country", "partners", "betweenness", "eigenvector"]
    rows = [
        [
            c.slug,
            c.name,
            c.country,
            c.partners,
            f"{c.betweenness:.6g}",
            "" if c.eigenvector is None else f"{c.eigenvector:.6g}",
        ]
        for c in result.cities
    ]
    return header, rows


def country_pair_table(matrix):
    names = [code or "other" for code in matrix.countries]
    return ["country", *names], [
        [name, *row] for name, row in zip(names, matrix.cells, strict=True)
    ]


def decade_table(decades):
    return ["decade", "twinnings_started"], [list(row) for row in decades.rows]


def overlap_table(overlap):
    names = [slug for slug, _label, _members in overlap.networks]
    return ["network", *names], [
        [name, *row] for name, row in zip(names, overlap.cells, strict=True)
    ]


@dataclass
class HeatCell:
    x: int
    y: int
    count: int
    opacity: float
    label: str


HEAT_CELL = 36  # SVG units per cell
HEAT_MARGIN = 44  # room for the country codes on the axes


def heat_map(matrix, names):
    """Cells of the country-pair matrix for an SVG heat map: darker is more twinnings.
    `names` maps a country code to its name, for each cell's tooltip."""
    # The shade scales to the named countries: "all others together" is a sum of
    # many countries and would wash every other cell out. It is shown at full shade.
    named = [i for i, code in enumerate(matrix.countries) if code != OTHER]
    top = max((matrix.cells[i][j] for i in named for j in named), default=0) or 1
    cells = []
    for i, first in enumerate(matrix.countries):
        for j, second in enumerate(matrix.countries):
            count = matrix.cells[i][j]
            cells.append(
                HeatCell(
                    x=HEAT_MARGIN + j * HEAT_CELL,
                    y=HEAT_MARGIN + i * HEAT_CELL,
                    count=count,
                    opacity=round(0.08 + 0.92 * min(count / top, 1), 3) if count else 0,
                    label=f"{names(first)} – {names(second)}: {count:,}",
                )
            )
    return cells


def membership_graph(memberships):
    """A bipartite city–network graph of the given memberships: city nodes keyed by
    slug (name, country, coordinates, population), network nodes keyed `network:<slug>`
    (name, acronym), one edge per membership (role, joined and left years)."""
    graph = nx.Graph()
    city_fields = [f"city__{name}" for name in TWINNING_NODE_FIELDS]
    rows = memberships.order_by().values_list(
        "pk",
        "role",
        "joined_year",
        "left_year",
        "network__slug",
        "network__name",
        "network__acronym",
        *city_fields,
    )
    for pk, role, joined, left, slug, name, acronym, *city in rows:
        network = f"network:{slug}"
        graph.add_node(network, kind="network", name=name, acronym=acronym or "", bipartite=1)
        city = dict(zip(TWINNING_NODE_FIELDS, city, strict=True))
        city_slug = city.pop("slug")
        graph.add_node(city_slug, kind="city", bipartite=0, **city)
        # A city with two roles in one network (member, then board) keeps one edge per
        # pair in a simple graph: the roles are joined.
        if graph.has_edge(city_slug, network):
            edge = graph.edges[city_slug, network]
            edge["role"] = "; ".join(sorted({*edge["role"].split("; "), role}))
            continue
        graph.add_edge(
            city_slug,
            network,
            id=pk,
            role=role,
            joined=joined if joined is not None else "",
            left=left if left is not None else "",
        )
    return graph


# Map features of filtered lists ------------------------------------------------------


def city_features(cities):
    """A GeoJSON point per located city of the queryset."""
    rows = (
        cities.order_by()
        .filter(latitude__isnull=False, longitude__isnull=False)
        .values_list("slug", "name", "country", "latitude", "longitude")
    )
    for slug, name, country, latitude, longitude in rows.iterator(chunk_size=5000):
        yield maps.point_feature(
            longitude, latitude, {"slug": slug, "name": name, "country": country}
        )


def twinning_features(twinnings):
    """A GeoJSON line per twinning of the queryset whose two places are located."""
    rows = (
        twinnings.order_by()
        .filter(
            city_a__latitude__isnull=False,
            city_b__latitude__isnull=False,
            city_a__longitude__isnull=False,
            city_b__longitude__isnull=False,
        )
        .values_list(
            "pk",
            "kind",
            "status",
            "start_year",
            "city_a__slug",
            "city_a__name",
            "city_a__longitude",
            "city_a__latitude",
            "city_b__slug",
            "city_b__name",
            "city_b__longitude",
            "city_b__latitude",
        )
    )
    for (
        pk,
        kind,
        status,
        year,
        a_slug,
        a_name,
        a_lng,
        a_lat,
        b_slug,
        b_name,
        b_lng,
        b_lat,
    ) in rows.iterator(chunk_size=5000):
        yield maps.line_feature(
            (a_lng, a_lat),
            (b_lng, b_lat),
            {
                "id": pk,
                "kind": kind,
                "status": status,
                "start_year": year,
                "city_a": a_slug,
                "city_a_name": a_name,
                "city_b": b_slug,
                "city_b_name": b_name,
            },
        )


def member_features(memberships):
    """A GeoJSON point per located member city of the memberships, with the networks
    it belongs to among them."""
    rows = (
        memberships.order_by()
        .filter(city__latitude__isnull=False, city__longitude__isnull=False)
        .values_list(
            "city__slug",
            "city__name",
            "city__country",
            "city__latitude",
            "city__longitude",
            "network__slug",
        )
    )
    cities = {}
    for slug, name, country, latitude, longitude, network in rows.iterator(chunk_size=5000):
        city = cities.setdefault(slug, [name, country, latitude, longitude, []])
        if network not in city[4]:
            city[4].append(network)
    for slug, (name, country, latitude, longitude, networks) in cities.items():
        yield maps.point_feature(
            longitude,
            latitude,
            {"slug": slug, "name": name, "country": country, "networks": networks},
        )

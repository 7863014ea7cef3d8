import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count, F
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.generic import DetailView, TemplateView
from django_countries import countries

from cities.models import City, CityName
from cities.regions import Region, region_of
from citydiplo.charts import Coverage, bar_chart, timeline
from citydiplo.listing import CatalogueListView, printable
from citydiplo.maps import compact_points, geojson_response, map_data
from citydiplo.records import (
    DatePrecision,
    ReviewState,
    format_partial_date,
    public,
    url_maker,
)
from citydiplo.versioning import catalogue_version

from . import analysis, exports, graphs, release
from .filters import (
    ActivityFilterSet,
    AgreementFilterSet,
    AgreementPartyFilterSet,
    CityFilterSet,
    MembershipFilterSet,
    NetworkFilterSet,
    TwinningFilterSet,
)
from .models import (
    Activity,
    Agreement,
    AgreementParty,
    DisputedField,
    Membership,
    Network,
    Theme,
    Twinning,
    TwinningStatus,
    city_pages,
)

PUBLISHED = ReviewState.PUBLISHED
HOME_MAP_LIMIT = 2000  # markers on the home map: the most populous published cities
RECENT_PER_KIND = 2
SEARCH_MAX_LENGTH = 200
SEARCH_SHOWN = 10  # results shown per kind; the list page has the rest


class HomeView(TemplateView):
    template_name = "activities/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cities = City.objects.published()
        located = cities.located()
        # Twinnings per start year, the undated under None: the total too, in one pass.
        # Grouped by the column rather than by decade, which SQLite would compute for
        # every row before grouping (190 against 150 ms at ten times the imported
        # twinnings: bench/README.md).
        per_year = (
            Twinning.objects.published()
            .values_list("start_year")
            .annotate(count=Count("pk"))
            .order_by()
        )
        per_decade = Counter()
        twinning_total = 0
        for year, count in per_year:
            twinning_total += count
            if year is not None:
                per_decade[year // 10 * 10] += count
        dated_twinnings = Coverage(per_decade.total(), twinning_total, "twinnings")
        if per_decade:
            decades = range(min(per_decade), max(per_decade) + 10, 10)
            per_decade = [(f"{decade}s", per_decade.get(decade, 0)) for decade in decades]
        networks = Network.objects.published()
        context.update(
            counts=[
                ("Cities and places", cities.count(), reverse("cities:city-list")),
                (
                    "Twinnings",
                    twinning_total,
                    reverse("activities:twinning-list"),
                ),
                (
                    "Networks",
                    networks.count(),
                    reverse("activities:network-list"),
                ),
                (
                    "Network memberships",
                    Membership.objects.published().count(),
                    reverse("activities:membership-list"),
                ),
                (
                    "Agreements",
                    Agreement.objects.published().count(),
                    reverse("activities:agreement-list"),
                ),
                (
                    "Activities",
                    Activity.objects.published().count(),
                    reverse("activities:activity-list"),
                ),
            ],
            located_count=located.count(),
            map_data=compact_points(
                located.order_by(F("population").desc(nulls_last=True), "name").values_list(
                    "name", "slug", "latitude", "longitude"
                )[:HOME_MAP_LIMIT],
                reverse("cities:city-detail", kwargs={"slug": "__slug__"}),
            ),
            map_limit=HOME_MAP_LIMIT,
            decade_chart=bar_chart(
                per_decade,
                title="Twinnings started per decade",
                desc="Number of published twinnings by the decade of their start year; "
                "twinnings with no known start year are not counted.",
                coverage=dated_twinnings,
            ),
            network_timeline=timeline(
                [
                    (
                        network.acronym or network.name,
                        network.founded_year,
                        network.closed_year,
                        "closed" if network.closed_year else "active",
                        network.get_absolute_url(),
                    )
                    for network in networks
                ],
                title="City networks by founding year",
                desc="One bar per network, from its founding year to its closure or merger, "
                "or to today when still active.",
                noun="networks",
            ),
            recent=recent_records(RECENT_PER_KIND),
        )
        return context


def recent_records(per_kind):
    """The `per_kind` most recently added published records of each kind, newest first
    (a catalogue loaded in one go gives every row the same time, so no kind crowds out
    the others)."""
    kinds = [
        ("City", City.objects.published()),
        ("Twinning", Twinning.objects.published()),
        ("Network", Network.objects.published()),
        ("Agreement", Agreement.objects.published()),
        ("Activity", Activity.objects.published()),
    ]
    records = []
    for kind, queryset in kinds:
        if kind == "Twinning":
            queryset = queryset.select_related("city_a", "city_b")
        records += [(kind, record) for record in queryset.order_by("-created_at", "-pk")[:per_kind]]
    records.sort(key=lambda row: row[1].created_at, reverse=True)
    return records


@dataclass
class SearchGroup:
    kind: str
    results: list
    count: int
    list_url: str | None

    @property
    def more(self):
        return self.count > len(self.results)


@dataclass
class Suggestion:
    """A place spelt like a search that found nothing ("Did you mean Kyiv?")."""

    name: str
    where: str


def clean_query(raw):
    """(query, problem): the query without control characters, or why it cannot run."""
    query = printable(raw).strip()
    if not query:
        return "", "Type a name or a word to search the catalogue."
    if len(query) > SEARCH_MAX_LENGTH:
        return "", f"That search is too long: use at most {SEARCH_MAX_LENGTH} characters."
    return query, ""


class SearchView(TemplateView):
    template_name = "activities/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        raw = self.request.GET.get("q", "")
        query, problem = clean_query(raw)
        groups = []
        if query:
            searches = [
                ("Cities", City.objects.published().search(query), "cities:city-list"),
                (
                    "Twinnings",
                    # Named by their sides' own name columns: no place is read.
                    Twinning.objects.published().search(query),
                    "activities:twinning-list",
                ),
                ("Networks", Network.objects.published().search(query), "activities:network-list"),
                (
                    "Agreements",
                    Agreement.objects.published().search(query),
                    "activities:agreement-list",
                ),
                (
                    "Activities",
                    Activity.objects.published().search(query),
                    "activities:activity-list",
                ),
                ("Themes", Theme.objects.search(query), None),
            ]
            for kind, queryset, list_name in searches:
                results = list(queryset[:SEARCH_SHOWN])
                count = len(results) if len(results) < SEARCH_SHOWN else queryset.count()
                list_url = f"{reverse(list_name)}?{urlencode({'q': query})}" if list_name else None
                groups.append(SearchGroup(kind, results, count, list_url))
        total = sum(group.count for group in groups)
        suggestions = []
        if query and not total:
            suggestions = [
                Suggestion(
                    city.name, ", ".join(filter(None, [city.subdivision, city.country.name]))
                )
                for _name, city in CityName.objects.closest(query)
            ]
        context.update(
            query=query,
            suggestions=suggestions,
            raw_query=printable(raw),
            problem=problem if raw or "q" in self.request.GET else "",
            groups=groups,
            total=total,
        )
        return context


class AboutView(TemplateView):
    template_name = "activities/about.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        return context


class DataView(TemplateView):
    """/data/: the latest citable release (`manage.py release`), its checksums and how
    to cite it."""

    template_name = "activities/data.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        latest = release.latest_release()
        resources = []
        if latest:
            sums = dict(latest.checksums)
            resources = [
                (
                    resource,
                    reverse("activities:data-file", args=[latest.version, resource["path"]]),
                    sums.get(resource["path"], ""),
                )
                for resource in latest.descriptor.get("resources", [])
            ]
        context.update(
            release=latest,
            resources=resources,
            today=timezone.localdate(),
            licence=release.LICENCE,
            attribution=release.ATTRIBUTION,
        )
        return context


def data_file(request, version, name):
    """A file of a release, streamed; only the files its checksums list."""
    if not release.VERSION_PATTERN.fullmatch(version):
        raise Http404("No such release.")
    found = release.read_release(release.release_root() / version)
    if found is None:
        raise Http404("No such release.")
    if name not in found.files:
        raise Http404("No such file in this release.")
    return FileResponse(open(found.directory / name, "rb"), as_attachment=True, filename=name)  # noqa: SIM115


class PlacesListView(CatalogueListView):
    """A list of places or ties between them: besides CSV and JSON it answers
    `?format=geojson` (`map_features`: the map of the filtered list, for GIS tools too)
    and, with a `graph`, `?format=gexf` and `?format=graphml`."""

    map_features = None  # queryset -> GeoJSON features
    graph = None  # queryset -> networkx graph

    @property
    def formats(self):
        graph_formats = graphs.GRAPH_FORMATS if self.graph else ()
        return (*CatalogueListView.formats, "geojson", *graph_formats)

    def export(self, fmt, queryset):
        if fmt == "geojson":
            return geojson_response(self.map_features(queryset), name=self.export_name)
        if fmt in graphs.GRAPH_FORMATS:
            return graphs.graph_response(self.graph(queryset), fmt, self.export_name)
        return super().export(fmt, queryset)


class CityListView(PlacesListView):
    model = City
    filterset_class = CityFilterSet
    template_name = "activities/city_list.html"
    heading = "Cities"
    intro = (
        "Cities, towns and other places that twin, join networks, sign agreements or run "
        "activities abroad."
    )
    search_placeholder = "Name, other spelling or region"
    columns = (
        ("Name", "name", False),
        ("Country", "country", False),
        ("Kind", "kind", False),
        ("Population", "population", True),
        ("Twinnings", "twinnings", True),
        ("Networks", "networks", True),
    )
    export_columns = exports.CITY_COLUMNS
    export_name = "cities"
    map_features = staticmethod(analysis.city_features)

    def get_queryset(self):
        return city_pages().published().for_list()


class CityDetailView(DetailView):
    template_name = "activities/city_detail.html"

    def get_queryset(self):
        return city_pages().published().for_detail()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        city = self.object
        twinnings = twinned_partners(city)
        activities = [(activity, "Lead") for activity in city.published_activities_led] + [
            (activity, "Partner") for activity in city.published_activities_joined
        ]
        activities.sort(key=lambda pair: (-(pair[0].start_year or 0), pair[0].title))
        context.update(
            twinnings=twinnings,
            activities=activities,
            map_data=map_data(
                [row.partner for row in twinnings],
                focus=city,
                link_focus=True,
                urls={row.partner.pk: row.partner_url for row in twinnings},
            ),
            twinning_timeline=timeline(
                [
                    (
                        row.partner.name,
                        row.twinning.start_year,
                        row.twinning.status_since,
                        row.twinning.status,
                        row.url,
                    )
                    for row in twinnings
                ],
                title=f"Twinnings of {city.name} over time",
                desc="One bar per twinning with a known start year, from its start to its "
                "suspension or end, or to today when active.",
                noun="twinnings",
            ),
        )
        return context


class TwinnedPartner(NamedTuple):
    """A row of a city's twinnings: the twinning, the place on its other side, that
    place's country name, and both addresses."""

    twinning: Twinning
    partner: City
    country_name: str
    url: str
    partner_url: str


def twinned_partners(city):
    """The rows of a city's twinnings (CityDiplomacyQuerySet.for_detail), by start year
    and partner, for its table, its timeline and its map.

    Each country is named once a page (a Country's name costs about 45 µs a call), and
    each link is worked out once for all three, its URL pattern reversed once a page
    (records.url_maker).
    """
    names = dict(countries)
    twinning_url, city_url = url_maker(), url_maker()
    sides = [
        (twinning, twinning.city_b, twinning.country_b.code)
        for twinning in city.published_twinnings_as_a
    ] + [
        (twinning, twinning.city_a, twinning.country_a.code)
        for twinning in city.published_twinnings_as_b
    ]
    rows = [
        TwinnedPartner(
            twinning,
            partner,
            names.get(code, code),
            twinning_url(str(twinning.pk), twinning.get_absolute_url),
            city_url(partner.slug, partner.get_absolute_url),
        )
        for twinning, partner, code in sides
    ]
    rows.sort(key=lambda row: (row.twinning.start_year or 9999, row.partner.name))
    return rows


class NetworkListView(CatalogueListView):
    model = Network
    filterset_class = NetworkFilterSet
    template_name = "activities/network_list.html"
    heading = "Networks"
    intro = (
        "City networks: associations through which cities act together, from Mayors for "
        "Peace to C40. Member counts are the members catalogued here."
    )
    search_placeholder = "Name, acronym or region"
    columns = (
        ("Network", "name", False),
        ("Scope", "scope", False),
        ("Founded", "founded", True),
        ("Headquarters", "headquarters", False),
        ("Themes", None, False),
        ("Members listed", "members", True),
        ("Closed", "closed", True),
    )
    export_columns = exports.NETWORK_COLUMNS
    export_name = "networks"


class NetworkDetailView(DetailView):
    def get_queryset(self):
        return Network.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        network = self.object
        members = sorted(
            network.published_memberships,
            key=lambda membership: (membership.city.country.name, membership.city.name),
        )
        per_country = Counter(membership.city.country.code for membership in members)
        country = self.request.GET.get("country", "").strip().upper()
        country_problem = ""
        if country and country not in per_country:
            name = dict(countries).get(country)
            country_problem = (
                f"No published member in {name}."
                if name
                else f"“{country[:10]}” is not a country code."
            )
            country = ""
        shown = [m for m in members if m.city.country.code == country] if country else members
        # ?disputed=1: only memberships for which a source gives another year.
        disputed = self.request.GET.get("disputed") == "1"
        disputed_total = sum(1 for m in members if m.conflicting_values.all())
        if disputed:
            shown = [m for m in shown if m.conflicting_values.all()]
        per_region = Counter(region_of(membership.city.country.code) for membership in members)
        context.update(
            members=shown,
            member_total=len(members),
            disputed=disputed,
            disputed_total=disputed_total,
            country=country,
            country_name=dict(countries).get(country, ""),
            country_problem=country_problem,
            country_choices=sorted(
                (
                    (code, dict(countries).get(code, code), count)
                    for code, count in per_country.items()
                ),
                key=lambda row: row[1],
            ),
            map_data=map_data([membership.city for membership in shown]),
            region_chart=bar_chart(
                [(region.label, per_region[region]) for region in Region if per_region[region]],
                title=f"Members of {network.acronym or network.name} by world region",
                desc="Number of published member cities in each world region "
                "(GeoNames continents).",
                height=200,
            ),
        )
        return context


class AgreementListView(CatalogueListView):
    model = Agreement
    filterset_class = AgreementFilterSet
    template_name = "activities/agreement_list.html"
    heading = "Agreements"
    intro = (
        "Pacts, declarations and cooperation agreements between cities, each with the "
        "cities that signed, endorsed, acceded to or withdrew from it."
    )
    search_placeholder = "Title, summary or forum"
    columns = (
        ("Agreement", "title", False),
        ("Kind", "kind", False),
        ("Signed", "year", True),
        ("Status", "status", False),
        ("Network", "network", False),
        ("Parties", "parties", True),
    )
    export_columns = exports.AGREEMENT_COLUMNS
    export_name = "agreements"


class AgreementDetailView(DetailView):
    def get_queryset(self):
        return Agreement.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["map_data"] = map_data([party.city for party in self.object.published_parties])
        return context


class TwinningListView(PlacesListView):
    model = Twinning
    filterset_class = TwinningFilterSet
    template_name = "activities/twinning_list.html"
    heading = "Twinnings"
    intro = (
        "Twin towns, sister cities, partner and friendship cities: one record per pair, "
        "found from either side, with the status of the link (active, suspended, ended)."
    )
    search_placeholder = "Either city, or a reason"
    columns = (
        ("City", "city_a", False),
        ("Country", "country_a", False),
        ("Partner", "city_b", False),
        ("Partner's country", "country_b", False),
        ("Kind", "kind", False),
        ("Since", "year", True),
        ("Status", "status", False),
    )
    export_columns = exports.TWINNING_COLUMNS
    export_name = "twinnings"
    map_features = staticmethod(analysis.twinning_features)
    graph = staticmethod(analysis.twinning_graph)


@dataclass
class Dispute:
    """One field of a record on which sources disagree: the value the record uses with
    its sources, beside each other value with its own."""

    label: str
    used: str
    used_sources: list
    others: list


def disputes(record):
    """The record's disputed fields (conflicting values prefetched), in field order."""
    values = list(record.conflicting_values.all())
    if not values:
        return []
    cited_for_others = {source.pk for value in values for source in value.sources.all()}
    sources = list(record.sources.all())
    used_sources = [s for s in sources if s.pk not in cited_for_others] or sources
    by_field = {}
    for value in values:
        by_field.setdefault(value.field, []).append(value)
    return [
        Dispute(
            label=DisputedField(field).label,
            used=others[0].current_display,
            used_sources=used_sources,
            others=others,
        )
        for field, others in sorted(
            by_field.items(), key=lambda item: DisputedField.values.index(item[0])
        )
    ]


class TwinningDetailView(DetailView):
    def get_queryset(self):
        return Twinning.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        twinning = self.object
        events = [(twinning.start_display or "Date not known", "Started", "")]
        if twinning.status != TwinningStatus.ACTIVE:
            events.append(
                (
                    format_partial_date(
                        twinning.status_year, twinning.status_on, DatePrecision.DAY
                    ),
                    twinning.get_status_display(),
                    twinning.status_reason,
                )
            )
        context.update(
            events=events,
            disputes=disputes(twinning),
            map_data=map_data([twinning.city_b], focus=twinning.city_a, link_focus=True),
        )
        return context


class ActivityListView(CatalogueListView):
    model = Activity
    filterset_class = ActivityFilterSet
    template_name = "activities/activity_list.html"
    heading = "Activities"
    intro = (
        "What cities do abroad beyond twinning and networks: development projects, "
        "refugee assistance, offices abroad, trade missions, mega-events, campaigns, summits."
    )
    search_placeholder = "Title, summary or partner"
    columns = (
        ("Activity", "title", False),
        ("Kind", "kind", False),
        ("Lead city", "lead_city", False),
        ("Partner cities", "partners", True),
        ("Started", "year", True),
        ("Ended", "end", True),
    )
    export_columns = exports.ACTIVITY_COLUMNS
    export_name = "activities"


class ActivityDetailView(DetailView):
    def get_queryset(self):
        return Activity.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = self.object
        lead = public(activity.lead_city)
        context.update(
            lead_city=lead,
            map_data=map_data(activity.published_partner_cities, focus=lead, link_focus=True),
        )
        return context


class ThemeDetailView(DetailView):
    def get_queryset(self):
        return Theme.objects.for_detail()


class AnalysisView(TemplateView):
    """The twinnings as a network, for the published catalogue or any filter of the
    twinnings list (the same parameters, the same rows)."""

    template_name = "activities/analysis.html"
    downloads = {
        "centrality": ("most-connected-cities", analysis.centrality_table, "centrality"),
        "country-pairs": ("country-pairs", analysis.country_pair_table, "matrix"),
        "decades": ("twinnings-per-decade", analysis.decade_table, "decades"),
        "network-overlap": ("network-overlap", analysis.overlap_table, "overlap"),
    }

    def get(self, request, *args, **kwargs):
        self.filterset = TwinningFilterSet(
            data=request.GET, queryset=Twinning.objects.published(), request=request
        )
        download = request.GET.get("download", "")
        if download and download not in self.downloads:
            return HttpResponseBadRequest(
                f"Unknown download {printable(download)[:30]!r}: use one of "
                + ", ".join(self.downloads)
                + ".",
                content_type="text/plain; charset=utf-8",
            )
        context = self.get_context_data(**kwargs)
        if download:
            name, table, key = self.downloads[download]
            header, rows = table(context[key])
            return exports.table_response(header, rows, name=name)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        twinnings = self.filterset.qs if self.filterset.is_valid() else Twinning.objects.none()
        context.update(
            filterset=self.filterset,
            query=self.request.GET.urlencode(),
            centrality=cached_centrality(twinnings, self.filterset),
            matrix=analysis.country_pair_matrix(twinnings),
            decades=analysis.started_per_decade(twinnings),
            overlap=analysis.network_overlap(Membership.objects.published()),
        )
        matrix = context["matrix"]

        def label(code):
            return (countries.name(code) or code) if code else "Other countries"

        context.update(
            active_filters=any(
                value not in (None, "", [], ())
                for value in getattr(self.filterset.form, "cleaned_data", {}).values()
            ),
            matrix_top=len([code for code in matrix.countries if code]),
            has_other=analysis.OTHER in matrix.countries,
            heat_cells=analysis.heat_map(matrix, label),
            heat_size=analysis.HEAT_MARGIN + analysis.HEAT_CELL * len(matrix.countries) + 4,
            axis_labels=[
                (code or "Oth.", analysis.HEAT_MARGIN + i * analysis.HEAT_CELL + 17)
                for i, code in enumerate(matrix.countries)
            ],
            matrix_names=[(code, label(code)) for code in matrix.countries],
            matrix_rows=[
                (label(code), row) for code, row in zip(matrix.countries, matrix.cells, strict=True)
            ],
            overlap_rows=[
                (label_, reverse("activities:network-detail", kwargs={"slug": slug}), row)
                for (slug, label_, _members), row in zip(
                    context["overlap"].networks, context["overlap"].cells, strict=True
                )
            ],
        )
        decades = context["decades"]
        context["decade_chart"] = bar_chart(
            decades.rows,
            title="Twinnings started per decade",
            desc=f"Dated: {decades.dated:,} of {decades.total:,} twinnings.",
        )
        return context


def cached_centrality(twinnings, filterset):
    """Centrality of the filtered twinnings' graph, computed once per catalogue version
    and filter: betweenness over the imported world takes seconds (bench/analysis.py),
    every later view of the same data reads it back."""
    params = sorted(filterset.form.cleaned_data.items()) if filterset.is_valid() else []
    digest = hashlib.sha256(repr(params).encode()).hexdigest()
    key = f"analysis-centrality:{catalogue_version()}:{digest}"
    result = cache.get(key)
    if result is None:
        result = analysis.centrality(analysis.twinning_graph(twinnings))
        cache.set(key, result, timeout=None)
    return result


class MembershipListView(PlacesListView):
    model = Membership
    filterset_class = MembershipFilterSet
    template_name = "activities/membership_list.html"
    heading = "Network memberships"
    intro = (
        "Which city belongs to which network, in what role, from when to when: one row "
        "per city and network."
    )
    search_placeholder = "City, network or category"
    columns = (
        ("Network", "network", False),
        ("City", "city", False),
        ("Country", "country", False),
        ("Role", "role", False),
        ("Joined", "joined", True),
        ("Left", "left", True),
    )
    export_columns = exports.MEMBERSHIP_COLUMNS
    export_name = "memberships"
    map_features = staticmethod(analysis.member_features)
    graph = staticmethod(analysis.membership_graph)


class AgreementPartyListView(CatalogueListView):
    model = AgreementParty
    filterset_class = AgreementPartyFilterSet
    template_name = "activities/agreementparty_list.html"
    heading = "Agreement parties"
    intro = (
        "Who signed, endorsed, acceded to or withdrew from which agreement, and when: one "
        "row per city's action, like the lines of a treaty status table."
    )
    search_placeholder = "City or agreement"
    columns = (
        ("Agreement", "agreement", False),
        ("City", "city", False),
        ("Country", "country", False),
        ("Action", "action", False),
        ("Year", "year", True),
    )
    export_columns = exports.AGREEMENT_PARTY_COLUMNS
    export_name = "agreement-parties"


AUTOCOMPLETE_SHOWN = 10
AUTOCOMPLETE_MAX_LENGTH = 200


@require_GET
def city_autocomplete(request):
    """`?q=lyo`: the published places best matching `q` (City search), as JSON for the
    place pickers of the list filters: `results`: [{slug, name, label}], where `label`
    adds the subdivision and country so namesakes can be told apart."""
    q = printable(request.GET.get("q", ""))[:AUTOCOMPLETE_MAX_LENGTH].strip()
    results = []
    if q:
        places = (
            City.objects.published()
            .search(q)
            .only("name", "slug", "country", "subdivision", "population")[:AUTOCOMPLETE_SHOWN]
        )
        results = [{"slug": city.slug, "name": city.name, "label": city.label()} for city in places]
    return JsonResponse({"query": q, "results": results})

from django.views.generic import DetailView, TemplateView

from cities.listing import CatalogueListView

from . import exports
from .filters import ActivityFilterSet, AgreementFilterSet, NetworkFilterSet, TwinningFilterSet
from .models import Activity, Agreement, Network, Theme, Twinning


class HomeView(TemplateView):
    template_name = "activities/home.html"


class SearchView(TemplateView):
    template_name = "activities/search.html"


class AboutView(TemplateView):
    template_name = "activities/about.html"


class PublishedMixin:
    model = None

    def get_queryset(self):
        return self.model.objects.published()


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


class NetworkDetailView(PublishedMixin, DetailView):
    model = Network


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


class AgreementDetailView(PublishedMixin, DetailView):
    model = Agreement


class TwinningListView(CatalogueListView):
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


class TwinningDetailView(PublishedMixin, DetailView):
    model = Twinning


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


class ActivityDetailView(PublishedMixin, DetailView):
    model = Activity


class ThemeDetailView(DetailView):
    model = Theme

"""FilterSets of the city, network, agreement, twinning and activity lists.

Parameter names are public (shared URLs, the issue's contract): keep them.
"""

import django_filters
from django import forms
from django.db.models import OuterRef, Q, Subquery
from django.db.models.lookups import IsNull

from cities.filters import PlaceNameFilter
from cities.models import City, PlaceKind
from cities.regions import Region, countries_in
from citydiplo import facets as generic
from citydiplo.filters import (
    CatalogueFilterSet,
    CountryFilter,
    CountryPairFilter,
    IntegerFilter,
    SlugChoiceFilter,
    YearFilter,
    YesNoFilter,
    only,
    ordering_filter,
)
from citydiplo.records import ReviewState, search_words

from . import facets
from .models import (
    DISPUTED_FIELDS,
    Activity,
    ActivityKind,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    DisputedField,
    Field,
    Membership,
    MembershipRole,
    Network,
    NetworkScope,
    PartyAction,
    Source,
    SourceKind,
    Theme,
    Twinning,
    TwinningKind,
    TwinningStatus,
)

Facet = generic.Facet
TWINNING_DISPUTES = DISPUTED_FIELDS["twinning"]


def choice(choices, label):
    return django_filters.ChoiceFilter(choices=choices, label=label, empty_label="Any")


def theme_filter():
    return SlugChoiceFilter(
        queryset=Theme.objects.all(), method="filter_theme", label="Theme", widget=forms.Select
    )


def field_filter():
    return django_filters.ChoiceFilter(
        choices=Field.choices, method="filter_field", label="Field of operation", empty_label="Any"
    )


def published_cities():
    return City.objects.published()


def city_filter(label, method="filter_city"):
    """A place typed by name or picked from the suggestions; the URL keeps its slug."""
    return PlaceNameFilter(queryset=published_cities, method=method, label=label)


def has_twinning_condition():
    """A published twinning with a published partner, on either side.

    Asked as "is there a first such twinning" (a subquery with LIMIT 1) rather than
    EXISTS: PostgreSQL answers an EXISTS over every city by hashing every twinning's
    city (576 ms for the city list's facet at ten times the imported twinnings), where
    this looks once into twinning_state_city_a_idx and _b_idx per city (137 ms; SQLite
    takes the same time either way: bench/README.md). The cities filtered are published.
    """

    def first(side):
        twinnings = Twinning.objects.of_published_city(side).order_by()
        return Subquery(twinnings.filter(**{side: OuterRef("pk")}).values(side)[:1])

    return Q(IsNull(first("city_a"), False)) | Q(IsNull(first("city_b"), False))


class CityFilterSet(CatalogueFilterSet):
    country = CountryFilter(field_name="country")
    region = django_filters.ChoiceFilter(
        choices=Region.choices, method="filter_region", label="Region", empty_label="Any"
    )
    kind = django_filters.ChoiceFilter(
        choices=PlaceKind.choices, label="Kind of place", empty_label="Any"
    )
    population_min = IntegerFilter(
        field_name="population", lookup_expr="gte", label="Population at least"
    )
    population_max = IntegerFilter(
        field_name="population", lookup_expr="lte", label="Population at most"
    )
    network = SlugChoiceFilter(
        queryset=Network.objects.published(),
        method="filter_network",
        label="Member of network",
        widget=forms.Select,
    )
    has_twinnings = YesNoFilter(condition=has_twinning_condition, label="Has twinnings")
    capital = YesNoFilter(condition=lambda: Q(is_capital=True), label="National capital")
    ordering = ordering_filter(
        ("name", "name", "Name"),
        ("country", "country", "Country"),
        ("kind", "kind", "Kind"),
        ("population", "population", "Population"),
        ("twinning_count", "twinnings", "Twinnings"),
        ("network_count", "networks", "Networks"),
    )

    facets = (
        Facet(
            "country",
            generic.summed(0),
            multiple=True,
            shared=facets.city_groups,
            selects=generic.one_of(0),
        ),
        Facet(
            "region",
            facets.regions_of(0),
            shared=facets.city_groups,
            selects=facets.in_regions(0),
        ),
        Facet("kind", generic.summed(1), shared=facets.city_groups),
        Facet(
            "network",
            generic.through(
                Membership.objects.published(), "city", "network__slug", label="network__name"
            ),
        ),
        Facet("has_twinnings", generic.yes_no(has_twinning_condition)),
        Facet("capital", generic.summed(2), shared=facets.city_groups),
    )

    class Meta:
        model = City
        fields = []

    def filter_region(self, queryset, name, value):
        return queryset.in_region(value)

    def filter_network(self, queryset, name, value):
        return only(
            queryset,
            memberships__network=value,
            memberships__review_state=ReviewState.PUBLISHED,
        )


class ThemedFilterSet(CatalogueFilterSet):
    """Theme and field filters, through the records' themes."""

    def filter_theme(self, queryset, name, value):
        return only(queryset, themes=value)

    def filter_field(self, queryset, name, value):
        return only(queryset, themes__field=value)


def network_active():
    """Network.is_active as a condition: not closed, or merged into a draft."""
    return Q(closed_year__isnull=True) | Q(
        merged_into__isnull=False, merged_into__review_state=ReviewState.DRAFT
    )


class NetworkFilterSet(ThemedFilterSet):
    scope = choice(NetworkScope.choices, "Scope")
    theme = theme_filter()
    field = field_filter()
    founded_min = YearFilter(field_name="founded_year", lookup_expr="gte", label="Founded from")
    founded_max = YearFilter(field_name="founded_year", lookup_expr="lte", label="Founded until")
    active = YesNoFilter(condition=lambda: network_active(), label="Still active")
    hq_country = CountryFilter(method="filter_hq_country", label="Headquarters country")
    member = city_filter("Member city", method="filter_member")
    ordering = ordering_filter(
        ("name", "name", "Name"),
        ("scope", "scope", "Scope"),
        ("founded_year", "founded", "Founded"),
        ("closed_year", "closed", "Closed"),
        ("headquarters__name", "headquarters", "Headquarters"),
        ("member_total", "members", "Members listed"),
    )

    facets = (
        Facet("scope", generic.grouped("scope")),
        Facet("theme", facets.network_themes),
        Facet("field", facets.network_fields),
        Facet("active", generic.yes_no(lambda: network_active())),
        Facet("hq_country", facets.headquarters_countries, multiple=True),
    )

    class Meta:
        model = Network
        fields = []

    def filter_member(self, queryset, name, value):
        return only(
            queryset, memberships__city=value, memberships__review_state=ReviewState.PUBLISHED
        )

    def filter_hq_country(self, queryset, name, value):
        """A draft headquarters is not public, so it places the network nowhere."""
        return queryset.filter(
            headquarters__country__in=value, headquarters__review_state=ReviewState.PUBLISHED
        )


class AgreementFilterSet(ThemedFilterSet):
    kind = choice(AgreementKind.choices, "Kind")
    status = choice(AgreementStatus.choices, "Status")
    theme = theme_filter()
    field = field_filter()
    city = city_filter("City taking part")
    country = CountryFilter(method="filter_country", label="Country of a party")
    network = SlugChoiceFilter(
        queryset=Network.objects.published(), label="Network", widget=forms.Select
    )
    year_min = YearFilter(field_name="signed_year", lookup_expr="gte", label="Signed from")
    year_max = YearFilter(field_name="signed_year", lookup_expr="lte", label="Signed until")
    ordering = ordering_filter(
        ("title", "title", "Title"),
        ("kind", "kind", "Kind"),
        ("signed_year", "year", "Signed"),
        ("status", "status", "Status"),
        ("network__name", "network", "Network"),
        ("party_count", "parties", "Parties"),
    )

    facets = (
        Facet("kind", generic.grouped("kind")),
        Facet("status", generic.grouped("status")),
        Facet("theme", facets.agreement_themes),
        Facet("field", facets.agreement_fields),
        Facet("country", facets.agreement_countries, multiple=True),
        Facet("network", facets.agreement_networks),
    )

    class Meta:
        model = Agreement
        fields = []

    def filter_city(self, queryset, name, value):
        return only(queryset, parties__city=value)

    def filter_country(self, queryset, name, value):
        return only(
            queryset,
            parties__city__country__in=value,
            parties__city__review_state=ReviewState.PUBLISHED,
        )


class TwinningFilterSet(CatalogueFilterSet):
    city = city_filter("City (either side)")
    partner = city_filter("Partner (the other side)")
    country = CountryFilter(method="filter_country", label="Country (either side)")
    country_pair = CountryPairFilter(method="filter_country_pair", label="Country pair")
    kind = choice(TwinningKind.choices, "Kind")
    status = choice(TwinningStatus.choices, "Status")
    year_min = YearFilter(field_name="start_year", lookup_expr="gte", label="Started from")
    year_max = YearFilter(field_name="start_year", lookup_expr="lte", label="Started until")
    region = django_filters.ChoiceFilter(
        choices=Region.choices,
        method="filter_region",
        label="Region (either side)",
        empty_label="Any",
    )
    disputed = django_filters.ChoiceFilter(
        choices=[
            *((field, DisputedField(field).label) for field in TWINNING_DISPUTES),
            ("any", "Any of these"),
        ],
        method="filter_disputed",
        label="Sources disagree on",
        empty_label="Any or none",
    )
    ordering = ordering_filter(
        ("name_a", "city_a", "City"),
        ("country_a", "country_a", "Country"),
        ("name_b", "city_b", "Partner"),
        ("country_b", "country_b", "Partner's country"),
        ("kind", "kind", "Kind"),
        ("start_year", "year", "Since"),
        ("status", "status", "Status"),
    )

    facets = (
        Facet("kind", generic.summed(2), shared=facets.twinning_groups),
        Facet("status", generic.summed(3), shared=facets.twinning_groups),
        Facet(
            "country",
            facets.twinning_countries,
            multiple=True,
            shared=facets.twinning_groups,
            selects=facets.twinning_in_countries,
        ),
        Facet(
            "region",
            facets.twinning_regions,
            shared=facets.twinning_groups,
            selects=facets.twinning_in_regions,
        ),
        Facet("country_pair", facets.twinning_country_pairs, shared=facets.twinning_groups),
    )

    class Meta:
        model = Twinning
        fields = []

    def filter_city(self, queryset, name, value):
        return queryset.filter(Q(city_a=value) | Q(city_b=value))

    def filter_country(self, queryset, name, value):
        return queryset.in_countries(value)

    def filter_country_pair(self, queryset, name, value):
        first, second = value
        return queryset.filter(
            Q(country_a=first, country_b=second) | Q(country_a=second, country_b=first)
        )

    def filter_region(self, queryset, name, value):
        return queryset.in_countries(countries_in(value))

    def filter_disputed(self, queryset, name, value):
        return queryset.disputed(None if value == "any" else value)


class ActivityFilterSet(ThemedFilterSet):
    kind = choice(ActivityKind.choices, "Kind")
    theme = theme_filter()
    field = field_filter()
    city = city_filter("City (lead or partner)")
    country = CountryFilter(method="filter_country", label="Country (lead or partner)")
    year_min = YearFilter(field_name="start_year", lookup_expr="gte", label="Started from")
    year_max = YearFilter(field_name="start_year", lookup_expr="lte", label="Started until")
    ordering = ordering_filter(
        ("title", "title", "Title"),
        ("kind", "kind", "Kind"),
        ("lead_city__name", "lead_city", "Lead city"),
        ("start_year", "year", "Started"),
        ("end_year", "end", "Ended"),
        ("partner_count", "partners", "Partner cities"),
    )

    facets = (
        Facet("kind", generic.grouped("kind")),
        Facet("theme", facets.activity_themes),
        Facet("field", facets.activity_fields),
        Facet("country", facets.activity_countries, multiple=True),
    )

    class Meta:
        model = Activity
        fields = []

    def filter_city(self, queryset, name, value):
        partnered = Activity.objects.filter(partner_cities=value).values("pk")
        return queryset.filter(Q(lead_city=value) | Q(pk__in=partnered))

    def filter_country(self, queryset, name, value):
        partnered = Activity.objects.filter(
            partner_cities__country__in=value,
            partner_cities__review_state=ReviewState.PUBLISHED,
        ).values("pk")
        lead = Q(lead_city__country__in=value, lead_city__review_state=ReviewState.PUBLISHED)
        return queryset.filter(lead | Q(pk__in=partnered))


def network_filter(label="Network", field_name="network"):
    return SlugChoiceFilter(
        queryset=Network.objects.published(),
        field_name=field_name,
        label=label,
        widget=forms.Select,
    )


class MembershipFilterSet(CatalogueFilterSet):
    network = network_filter()
    city = city_filter("City")
    country = CountryFilter(field_name="city__country", label="Country of the city")
    role = choice(MembershipRole.choices, "Role")
    year_min = YearFilter(field_name="joined_year", lookup_expr="gte", label="Joined from")
    year_max = YearFilter(field_name="joined_year", lookup_expr="lte", label="Joined until")
    member_in = YearFilter(method="filter_member_in", label="Member in (year)")
    ordering = ordering_filter(
        ("network__name", "network", "Network"),
        ("city__name", "city", "City"),
        ("city__country", "country", "Country"),
        ("role", "role", "Role"),
        ("joined_year", "joined", "Joined"),
        ("left_year", "left", "Left"),
    )

    facets = (
        Facet("role", generic.grouped("role")),
        Facet("country", generic.grouped("city__country"), multiple=True),
        Facet("network", generic.grouped("network__slug", label="network__name")),
    )

    class Meta:
        model = Membership
        fields = []

    def filter_city(self, queryset, name, value):
        return queryset.filter(city=value)

    def filter_member_in(self, queryset, name, value):
        """Joined in or before the year (or when unknown) and not left before it."""
        return queryset.filter(
            Q(joined_year__lte=value) | Q(joined_year__isnull=True),
            Q(left_year__gte=value) | Q(left_year__isnull=True),
        )


class AgreementPartyFilterSet(CatalogueFilterSet):
    agreement = SlugChoiceFilter(
        queryset=Agreement.objects.published(), label="Agreement", widget=forms.Select
    )
    network = network_filter("Network behind the agreement", "agreement__network")
    city = city_filter("City")
    country = CountryFilter(field_name="city__country", label="Country of the city")
    action = choice(PartyAction.choices, "Action (role)")
    year_min = YearFilter(field_name="year", lookup_expr="gte", label="Action from")
    year_max = YearFilter(field_name="year", lookup_expr="lte", label="Action until")
    ordering = ordering_filter(
        ("agreement__title", "agreement", "Agreement"),
        ("city__name", "city", "City"),
        ("city__country", "country", "Country"),
        ("action", "action", "Action"),
        ("year", "year", "Year"),
    )

    facets = (
        Facet("action", generic.grouped("action")),
        Facet("country", generic.grouped("city__country"), multiple=True),
        Facet("agreement", generic.grouped("agreement__slug", label="agreement__title")),
    )

    class Meta:
        model = AgreementParty
        fields = []

    def filter_city(self, queryset, name, value):
        return queryset.filter(city=value)


class ThemeFilterSet(CatalogueFilterSet):
    """The API's themes (no list page): search and field of operation."""

    field = django_filters.ChoiceFilter(
        choices=Field.choices, label="Field of operation", empty_label="Any"
    )
    ordering = ordering_filter(("name", "name", "Name"), ("field", "field", "Field"))

    class Meta:
        model = Theme
        fields = []


class SourceFilterSet(CatalogueFilterSet):
    """The API's sources (no list page): search and kind."""

    kind = choice(SourceKind.choices, "Kind")
    ordering = ordering_filter(
        ("title", "title", "Title"),
        ("publisher", "publisher", "Publisher"),
        ("accessed_on", "accessed", "Accessed"),
    )

    class Meta:
        model = Source
        fields = []

    def search(self, queryset, name, value):
        return search_words(queryset, value, ("key", "title", "publisher", "url"))

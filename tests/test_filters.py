"""Each filter returns exactly the rows the ORM says it should; sorting and facets too."""

import pytest
from django.db.models import Q
from django.http import QueryDict
from django.urls import reverse

from activities.filters import (
    ActivityFilterSet,
    AgreementFilterSet,
    CityFilterSet,
    NetworkFilterSet,
    TwinningFilterSet,
)
from activities.models import Activity, Agreement, Network, Twinning, city_pages
from cities.models import City
from cities.regions import countries_in


def filtered(filterset_class, query):
    model = filterset_class._meta.model
    records = city_pages() if model is City else model.objects
    filterset = filterset_class(QueryDict(query), queryset=records.published().for_list())
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs)


def pks(rows):
    return sorted(row.pk for row in rows)


def orm(model, *conditions, **lookups):
    return sorted(
        model.objects.published().filter(*conditions, **lookups).values_list("pk", flat=True)
    )


# Cities ------------------------------------------------------------------------------


CITY_CASES = [
    ("country=FR", Q(country="FR")),
    ("country=fr&country=DE", Q(country__in=["FR", "DE"])),
    ("country=&country=GB", Q(country="GB")),
    ("region=europe", Q(country__in=countries_in("europe"))),
    ("region=asia", Q(country__in=countries_in("asia"))),
    ("kind=metropolis", Q(kind="metropolis")),
    ("population_min=1500000", Q(population__gte=1_500_000)),
    ("population_max=600000", Q(population__lte=600_000)),
    (
        "population_min=500000&population_max=2000000",
        Q(population__gte=500_000, population__lte=2_000_000),
    ),
    ("capital=true", Q(is_capital=True)),
    ("capital=false", Q(is_capital=False)),
    ("q=ber", Q(name__icontains="ber")),
    ("q=pa fr", Q(slug__icontains="pa") & Q(slug__icontains="fr")),
]


@pytest.mark.parametrize(("query", "condition"), CITY_CASES)
def test_city_filter_returns_the_rows_the_orm_selects(catalogue, query, condition):
    assert pks(filtered(CityFilterSet, query)) == orm(City, condition)


def test_city_network_filter_counts_published_memberships_only(catalogue):
    c = catalogue
    assert pks(filtered(CityFilterSet, "network=c40")) == sorted(
        [c.paris.pk, c.berlin.pk, c.tokyo.pk, c.chicago.pk]
    )
    assert pks(filtered(CityFilterSet, "network=mayors-for-peace")) == sorted(
        [c.paris.pk, c.tokyo.pk]
    )


def test_city_has_twinnings_ignores_draft_twinnings_and_draft_partners(catalogue):
    c = catalogue
    twinned = [c.paris, c.lyon, c.berlin, c.munich, c.coventry, c.volgograd, c.tokyo, c.chicago]
    assert pks(filtered(CityFilterSet, "has_twinnings=true")) == pks(twinned)
    assert pks(filtered(CityFilterSet, "has_twinnings=false")) == []


def test_city_twinning_and_network_counts_are_annotated(catalogue):
    rows = {city.slug: city for city in filtered(CityFilterSet, "")}
    assert rows["paris-fr"].twinning_count == 2
    assert rows["munich-de"].twinning_count == 1  # its twinning with a draft is hidden
    assert rows["paris-fr"].network_count == 3
    assert rows["volgograd-ru"].network_count == 0  # its membership is a draft


def test_city_ordering_sorts_by_population_descending(catalogue):
    rows = filtered(CityFilterSet, "ordering=-population")
    populations = [city.population for city in rows]
    assert populations == sorted(populations, reverse=True)
    assert rows[0].slug == "tokyo-jp"


def test_city_ordering_by_twinning_count(catalogue):
    rows = filtered(CityFilterSet, "ordering=-twinnings")
    counts = [city.twinning_count for city in rows]
    assert counts == sorted(counts, reverse=True)
    assert rows[0].twinning_count == 2


# Networks ----------------------------------------------------------------------------


NETWORK_CASES = [
    ("scope=regional", Q(scope="regional")),
    ("theme=climate", Q(themes__slug="climate")),
    ("field=security", Q(themes__field="security")),
    ("founded_min=1986", Q(founded_year__gte=1986)),
    ("founded_max=1986", Q(founded_year__lte=1986)),
    ("active=true", Q(closed_year__isnull=True)),
    ("active=false", Q(closed_year__isnull=False)),
    ("hq_country=US", Q(headquarters__country="US")),
    ("hq_country=US&hq_country=JP", Q(headquarters__country__in=["US", "JP"])),
    ("q=peace", Q(name__icontains="peace")),
]


@pytest.mark.parametrize(("query", "condition"), NETWORK_CASES)
def test_network_filter_returns_the_rows_the_orm_selects(catalogue, query, condition):
    assert pks(filtered(NetworkFilterSet, query)) == sorted(set(orm(Network, condition)))


def test_network_with_two_matching_themes_is_listed_once(catalogue):
    rows = filtered(NetworkFilterSet, "field=culture_environment")
    assert len(rows) == len({row.pk for row in rows})


def test_network_member_total_counts_published_members_of_published_cities(catalogue):
    rows = {n.slug: n for n in filtered(NetworkFilterSet, "")}
    assert rows["c40"].member_total == 4  # the draft city is left out
    assert rows["mayors-for-peace"].member_total == 2  # the draft membership too
    assert "draft-network" not in rows


def test_network_ordering_by_founding_year(catalogue):
    rows = filtered(NetworkFilterSet, "ordering=founded")
    assert [n.slug for n in rows] == ["mayors-for-peace", "eurocities", "c40", "closed-cities"]


# Agreements --------------------------------------------------------------------------


AGREEMENT_CASES = [
    ("kind=pact", Q(kind="pact")),
    ("status=expired", Q(status="expired")),
    ("theme=peace", Q(themes__slug="peace")),
    ("field=culture_environment", Q(themes__field="culture_environment")),
    ("city=tokyo-jp", Q(parties__city__slug="tokyo-jp")),
    ("country=DE", Q(parties__city__country="DE")),
    ("country=RU&country=DE", Q(parties__city__country__in=["RU", "DE"])),
    ("network=c40", Q(network__slug="c40")),
    ("year_min=2000", Q(signed_year__gte=2000)),
    ("year_max=2000", Q(signed_year__lte=2000)),
    ("q=pact", Q(title__icontains="pact")),
]


@pytest.mark.parametrize(("query", "condition"), AGREEMENT_CASES)
def test_agreement_filter_returns_the_rows_the_orm_selects(catalogue, query, condition):
    rows = filtered(AgreementFilterSet, query)
    assert len(rows) == len({row.pk for row in rows})
    assert pks(rows) == sorted(set(orm(Agreement, condition)))


def test_agreement_party_count_leaves_out_draft_cities(catalogue):
    rows = {a.slug: a for a in filtered(AgreementFilterSet, "")}
    assert rows["food-pact"].party_count == 4
    assert "draft-accord" not in rows


def test_agreement_default_order_is_newest_first(catalogue):
    assert [a.slug for a in filtered(AgreementFilterSet, "")] == [
        "food-pact",
        "paris-berlin-mou",
        "peace-charter",
    ]


# Twinnings ---------------------------------------------------------------------------


def either(field, value):
    return Q(**{f"city_a__{field}": value}) | Q(**{f"city_b__{field}": value})


TWINNING_CASES = [
    ("city=lyon-fr", either("slug", "lyon-fr")),
    ("country=RU", either("country", "RU")),
    ("country=ru&country=US", either("country__in", ["RU", "US"])),
    (
        "country_pair=DE-FR",
        Q(city_a__country="DE", city_b__country="FR")
        | Q(city_a__country="FR", city_b__country="DE"),
    ),
    (
        "country_pair=fr-de",
        Q(city_a__country="DE", city_b__country="FR")
        | Q(city_a__country="FR", city_b__country="DE"),
    ),
    ("country_pair=FR-FR", Q(city_a__country="FR", city_b__country="FR")),
    ("kind=twin_town", Q(kind="twin_town")),
    ("status=suspended", Q(status="suspended")),
    ("year_min=1970", Q(start_year__gte=1970)),
    ("year_max=1970", Q(start_year__lte=1970)),
    ("region=asia", either("country__in", countries_in("asia"))),
    (
        "region=europe&status=active",
        either("country__in", countries_in("europe")) & Q(status="active"),
    ),
    ("q=volgo", either("name__icontains", "volgo")),
]


@pytest.mark.parametrize(("query", "condition"), TWINNING_CASES)
def test_twinning_filter_returns_the_rows_the_orm_selects(catalogue, query, condition):
    assert pks(filtered(TwinningFilterSet, query)) == orm(Twinning, condition)


def test_twinning_list_hides_drafts_and_twinnings_with_a_draft_place(catalogue):
    shown = pks(filtered(TwinningFilterSet, ""))
    assert catalogue.draft_twinning.pk not in shown
    assert catalogue.twinning_with_draft.pk not in shown
    assert len(shown) == 5


def test_twinning_ordering_by_start_year_descending(catalogue):
    years = [t.start_year for t in filtered(TwinningFilterSet, "ordering=-year")]
    assert years == [2000, 1987, 1972, 1960, 1944]


# Activities --------------------------------------------------------------------------


ACTIVITY_CASES = [
    ("kind=office", Q(kind="office")),
    ("theme=climate", Q(themes__slug="climate")),
    ("field=economy", Q(themes__field="economy")),
    ("city=tokyo-jp", Q(lead_city__slug="tokyo-jp") | Q(partner_cities__slug="tokyo-jp")),
    ("city=coventry-gb", Q(lead_city__slug="coventry-gb") | Q(partner_cities__slug="coventry-gb")),
    ("country=US", Q(lead_city__country="US") | Q(partner_cities__country="US")),
    ("year_min=2010", Q(start_year__gte=2010)),
    ("year_max=2010", Q(start_year__lte=2010)),
    ("q=water", Q(title__icontains="water")),
]


@pytest.mark.parametrize(("query", "condition"), ACTIVITY_CASES)
def test_activity_filter_returns_the_rows_the_orm_selects(catalogue, query, condition):
    rows = filtered(ActivityFilterSet, query)
    assert len(rows) == len({row.pk for row in rows})
    assert pks(rows) == sorted(set(orm(Activity, condition)))


def test_activity_partner_count_leaves_out_draft_cities(catalogue):
    rows = {a.slug: a for a in filtered(ActivityFilterSet, "")}
    assert rows["refuge"].partner_count == 1  # its partners: munich-de and a draft


# Invalid values are form errors, not crashes -----------------------------------------


@pytest.mark.parametrize(
    ("filterset_class", "query", "field"),
    [
        (CityFilterSet, "country=ZZ", "country"),
        (CityFilterSet, "population_min=many", "population_min"),
        (CityFilterSet, f"population_max={10**30}", "population_max"),
        (CityFilterSet, "network=no-such-network", "network"),
        (CityFilterSet, "ordering=secret_field", "ordering"),
        (NetworkFilterSet, "founded_min=19x0", "founded_min"),
        (AgreementFilterSet, "city=draft-town", "city"),
        (TwinningFilterSet, "country_pair=DEFR", "country_pair"),
        (TwinningFilterSet, "country_pair=DE-ZZ", "country_pair"),
        (TwinningFilterSet, "region=atlantis", "region"),
        (ActivityFilterSet, "year_min=99999", "year_min"),
    ],
)
def test_invalid_values_are_reported_as_form_errors(catalogue, filterset_class, query, field):
    model = filterset_class._meta.model
    filterset = filterset_class(QueryDict(query), queryset=model.objects.published())
    assert not filterset.is_valid()
    assert field in filterset.errors


def test_draft_city_slug_is_not_accepted(catalogue):
    filterset = TwinningFilterSet(
        QueryDict("city=hidden-fr"), queryset=Twinning.objects.published()
    )
    assert "city" in filterset.errors


# Facet counts --------------------------------------------------------------------------


LISTS = [
    ("cities:city-list", CityFilterSet, ["", "country=FR", "region=europe&capital=false"]),
    ("activities:network-list", NetworkFilterSet, ["", "scope=global", "theme=climate"]),
    ("activities:agreement-list", AgreementFilterSet, ["", "country=FR", "kind=pact"]),
    ("activities:twinning-list", TwinningFilterSet, ["", "country=FR", "region=asia"]),
    ("activities:activity-list", ActivityFilterSet, ["", "country=JP", "theme=peace"]),
]


@pytest.mark.parametrize(
    ("url_name", "filterset_class", "query"),
    [(name, fs, query) for name, fs, queries in LISTS for query in queries],
)
def test_each_facet_count_is_the_number_of_rows_that_choice_selects(
    client, catalogue, url_name, filterset_class, query
):
    """Given the other filters, choosing a value gives exactly the count shown beside it.

    A repeatable filter adds an unselected value to the selection (values are ORed); a
    selected value is counted alone.
    """
    response = client.get(reverse(url_name) + "?" + query)
    assert response.status_code == 200
    base = QueryDict(query, mutable=True)
    multiple = {facet.name for facet in filterset_class.facets if facet.multiple}
    checked = 0
    for facet in response.context["facets"]:
        for choice in facet.choices:
            data = base.copy()
            values = [choice.value]
            if facet.name in multiple and not choice.selected:
                values = [*base.getlist(facet.name), choice.value]
            data.setlist(facet.name, values)
            assert len(filtered(filterset_class, data.urlencode())) == choice.count, (
                facet.name,
                choice.value,
            )
            checked += 1
    assert checked


def test_facets_across_links_count_each_record_once_per_value(client, catalogue):
    response = client.get(reverse("activities:agreement-list"))
    facets = {
        facet.name: {c.value: c.count for c in facet.choices}
        for facet in response.context["facets"]
    }
    # The food pact has two French parties (Paris, Lyon; the draft city is left out).
    assert facets["country"] == {"FR": 2, "DE": 2, "JP": 2, "RU": 1}
    assert facets["theme"] == {"climate": 1, "peace": 1}
    assert facets["network"] == {"c40": 1, "mayors-for-peace": 1}


def test_twinning_facets_count_either_side(client, catalogue):
    response = client.get(reverse("activities:twinning-list"))
    facets = {
        facet.name: {c.value: c.count for c in facet.choices}
        for facet in response.context["facets"]
    }
    assert facets["country"] == {"FR": 3, "DE": 2, "GB": 1, "RU": 1, "JP": 1, "US": 1}
    assert facets["country_pair"] == {"DE-FR": 2, "FR-FR": 1, "GB-RU": 1, "JP-US": 1}
    assert facets["region"] == {"europe": 4, "asia": 1, "north-america": 1}


def test_facet_ignores_its_own_filter_but_keeps_the_others(client, catalogue):
    response = client.get(reverse("cities:city-list") + "?country=FR&capital=true")
    facets = {facet.name: facet for facet in response.context["facets"]}
    countries = {c.value: c for c in facets["country"].choices}
    assert countries["FR"].selected
    assert countries["FR"].count == 1  # Paris: the capital filter still applies
    assert countries["DE"].count == 2  # Paris, and Berlin would be added
    capital = {c.value: c.count for c in facets["capital"].choices}
    assert capital == {"true": 1, "false": 1}  # Paris, Lyon: the country filter applies


def test_network_hq_country_ignores_a_draft_headquarters(client, catalogue, draft_links):
    assert len(filtered(NetworkFilterSet, "hq_country=NO")) == 0
    response = client.get(reverse("activities:network-list"))
    facets = {facet.name: {c.value for c in facet.choices} for facet in response.context["facets"]}
    assert "NO" not in facets["hq_country"]
    assert facets["hq_country"] >= {"US", "JP", "DE"}


def test_agreement_network_facet_offers_published_networks_only(client, catalogue, draft_links):
    response = client.get(reverse("activities:agreement-list"))
    facets = {facet.name: {c.value for c in facet.choices} for facet in response.context["facets"]}
    assert facets["network"] == {"c40", "mayors-for-peace"}


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("cities:city-list", "country=FR"),
        ("cities:city-list", "country=FR&country=DE&capital=false"),
        ("activities:twinning-list", "country=FR"),
        ("activities:activity-list", "country=JP"),
        ("activities:agreement-list", "country=DE"),
        ("activities:network-list", "hq_country=US"),
    ],
)
def test_facet_count_is_the_result_count_of_the_page_its_link_opens(
    client, catalogue, url_name, query
):
    url = reverse(url_name)
    response = client.get(f"{url}?{query}")
    checked = 0
    for facet in response.context["facets"]:
        for choice in facet.choices:
            if choice.selected:
                continue
            opened = client.get(url + choice.url)
            assert opened.context["result_count"] == choice.count, (facet.name, choice.value)
            checked += 1
    assert checked


@pytest.fixture
def blank_rows(catalogue, make_city):
    """One published record of each kind with the sorted year or number unknown."""
    first, second = make_city("Nowhere", "IT"), make_city("Elsewhere", "ES")
    Twinning.objects.create(city_a=first, city_b=second, kind="twin_town")
    Network.objects.create(name="Undated Network", slug="undated", scope="global")
    Agreement.objects.create(title="Undated Pact", slug="undated-pact", kind="pact")


@pytest.mark.parametrize(
    ("filterset_class", "param", "field"),
    [
        (NetworkFilterSet, "founded", "founded_year"),
        (NetworkFilterSet, "closed", "closed_year"),
        (AgreementFilterSet, "year", "signed_year"),
        (TwinningFilterSet, "year", "start_year"),
        (ActivityFilterSet, "end", "end_year"),
        (CityFilterSet, "population", "population"),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_blanks_sort_last_in_both_directions(blank_rows, filterset_class, param, field, descending):
    rows = list(filtered(filterset_class, f"ordering={'-' if descending else ''}{param}"))
    values = [getattr(row, field) for row in rows]
    known = [value for value in values if value is not None]
    assert None in values and known, "the catalogue needs blanks and values here"
    assert values == known + [None] * (len(values) - len(known))
    assert known == sorted(known, reverse=descending)

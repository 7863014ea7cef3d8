"""Facet counts that need the activities models: links through members, parties,
themes and partners, and the two sides of a twinning. The generic pieces are in
citydiplo/facets.py."""

from collections import Counter

from django.db.models import Count, F
from django_countries import countries

from cities.regions import region_by_country, region_of
from citydiplo.facets import grouped, groups, through
from citydiplo.records import ReviewState

from .models import Activity, Agreement, AgreementParty, Network

PUBLISHED = ReviewState.PUBLISHED


def themes_of(model, owner):
    """Theme slugs (with names) of the listed records, through the themes link table."""
    return through(model.themes.through.objects.all(), owner, "theme__slug", label="theme__name")


def fields_of(model, owner):
    """Marchetti's fields of operation, through the records' themes."""
    return through(model.themes.through.objects.all(), owner, "theme__field")


network_themes = themes_of(Network, "network")
network_fields = fields_of(Network, "network")
agreement_themes = themes_of(Agreement, "agreement")
agreement_fields = fields_of(Agreement, "agreement")
activity_themes = themes_of(Activity, "activity")
activity_fields = fields_of(Activity, "activity")

agreement_countries = through(
    AgreementParty.objects.filter(city__review_state=PUBLISHED), "agreement", "city__country"
)


# Facets over a related record offer published records only: a draft is never named.
# (Themes have no review state; cities and networks do.)


def agreement_networks(queryset):
    """Agreements per published network behind them."""
    count = grouped("network__slug", label="network__name")
    return count(queryset.filter(network__review_state=PUBLISHED))


def headquarters_countries(queryset):
    """Networks per country of a published headquarters."""
    return grouped("headquarters__country")(queryset.filter(headquarters__review_state=PUBLISHED))


def activity_countries(queryset):
    """Activities per country of their lead or a partner city, each activity once a country.

    Two grouped queries: lead cities' countries, then partners' countries where the lead
    city is elsewhere (or absent), so nothing counts twice.
    """
    totals = Counter(
        dict(grouped("lead_city__country")(queryset.filter(lead_city__review_state=PUBLISHED)))
    )
    partners = (
        Activity.partner_cities.through.objects.filter(
            activity__in=queryset.values("pk"), city__review_state=PUBLISHED
        )
        .exclude(
            activity__lead_city__country=F("city__country"),
            activity__lead_city__review_state=PUBLISHED,
        )
        .order_by()
        .values_list("city__country")
        .annotate(n=Count("activity", distinct=True))
    )
    for code, n in partners:
        totals[code] += n
    return list(totals.items())


#: (country_a, country_b, kind, status, twinnings): one grouped query over the per-side
#: country columns, read by every facet of the twinnings list (Facet.shared).
twinning_groups = groups("country_a", "country_b", "kind", "status")


def twinning_in_countries(group, codes):
    """Whether a row of twinning_groups has a side in one of `codes`."""
    return group[0] in codes or group[1] in codes


def twinning_countries(rows):
    """Twinnings per country of either side; a twinning inside one country counts once."""
    totals = Counter()
    for a, b, _kind, _status, n in rows:
        totals[a] += n
        if b != a:
            totals[b] += n
    return list(totals.items())


def twinning_regions(rows):
    """Twinnings per world region of either side."""
    by_country = {
        code: region.value for code, region in region_by_country().items() if region is not None
    }
    totals = Counter()
    for a, b, _kind, _status, n in rows:
        first, second = by_country.get(a), by_country.get(b)
        if first:
            totals[first] += n
        if second and second != first:
            totals[second] += n
    return list(totals.items())


def twinning_country_pairs(rows):
    """Twinnings per pair of countries, either order (DE-FR), labelled by name."""
    totals = Counter()
    for a, b, _kind, _status, n in rows:
        totals[(a, b) if a <= b else (b, a)] += n
    names = dict(countries)  # each name translated once, not once per pair
    return [
        ("-".join(pair), f"{names.get(pair[0], pair[0])} – {names.get(pair[1], pair[1])}", n)
        for pair, n in totals.items()
    ]


def in_regions(index):
    """Facet.selects for a shared pass: the country at `index` lies in a chosen region."""

    def selects(row, values):
        region = region_of(row[index])
        return region is not None and region.value in values

    return selects


def twinning_in_regions(group, values):
    """Whether a row of twinning_groups has a side in one of the regions `values`."""
    return any(
        region is not None and region.value in values
        for region in (region_of(group[0]), region_of(group[1]))
    )


def regions_of(index):
    """Regions counted from the country column at `index` of a shared pass's rows."""

    def count(rows):
        totals = Counter()
        for row in rows:
            region = region_of(row[index])
            if region:
                totals[region.value] += row[-1]
        return list(totals.items())

    return count


#: (country, kind, is_capital, cities): the city list's shared pass.
city_groups = groups("country", "kind", "is_capital")

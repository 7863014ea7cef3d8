"""Columns of the city, network, agreement, twinning and activity downloads.

The streaming writer is citydiplo/exports.py; the columns are documented in
docs/exports.md. Keep names and order stable: researchers' scripts depend on them.
"""

import csv
import io

from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django_countries import countries

from cities.models import City
from cities.regions import region_by_country, region_of
from citydiplo.exports import CHUNK_SIZE, Column, csv_value
from citydiplo.records import public

from .models import ConflictingValue, Membership, Source, source_links, twinning_count


def slug_of(record):
    """A related record's slug; empty when there is none or it is a draft."""
    record = public(record)
    return record.slug if record else ""


def country_of(city):
    city = public(city)
    return city.country.code if city else ""


def source_keys(record):
    return [source.key for source in record.sources.all()]  # prefetched (SOURCE_COLUMNS)


def source_urls(record):
    return [source.url for source in record.sources.all()]


def sources_by_pk(queryset):
    """`bulk` reader of both source columns: {record pk: [(key, url) of each source it
    cites, by key]} for every record of a download, in one query on the link table (no
    join back to the records)."""
    model = queryset.model
    link = Source.cities.through if model is City else model.sources.through
    owner = next(f.attname for f in link._meta.concrete_fields if f.related_model is model)
    rows = (
        link.objects.filter(**{f"{owner}__in": queryset.values("pk")})
        .order_by(owner, "source__key")
        .values_list(owner, "source__key", "source__url")
    )
    found = {}
    for pk, key, url in rows.iterator(chunk_size=CHUNK_SIZE):
        found.setdefault(pk, []).append((key, url))
    return found


def source_part(index):
    """`convert` of a source column: the keys (0) or the addresses (1) of its pairs."""
    return lambda: lambda pairs: [pair[index] for pair in pairs]


#: Every download carries the keys and addresses of the sources its record cites, so
#: each row can be traced to its evidence. Both list the sources in one order (by key).
SOURCE_COLUMNS = [
    Column(
        "source_keys",
        source_keys,
        "Keys of the sources the record cites (CSV: separated by '; ').",
        bulk=sources_by_pk,
        convert=source_part(0),
        prefetch=(source_links(),),
    ),
    Column(
        "source_urls",
        source_urls,
        "Their addresses, in the same order as source_keys.",
        bulk=sources_by_pk,
        convert=source_part(1),
        prefetch=(source_links(),),
    ),
]


def theme_slugs(record):
    return [theme.slug for theme in record.themes.all()]


#: A record's theme slugs, its themes prefetched for the whole download.
THEME_COLUMN = Column(
    "themes", theme_slugs, "Theme slugs (CSV: separated by '; ').", prefetch=("themes",)
)


NETWORK_COLUMNS = [
    Column("slug", lambda n: n.slug, "Stable identifier, also the end of the record's URL."),
    Column("name", lambda n: n.name, "Name."),
    Column("acronym", lambda n: n.acronym, "Acronym, if any."),
    Column("scope", lambda n: n.scope, "global, regional or national."),
    Column("region_covered", lambda n: n.region_covered, "Where its members are, in words."),
    Column("founded_year", lambda n: n.founded_year, "Year founded."),
    Column("founded_on", lambda n: n.founded_on, "Exact founding date, when a source gives it."),
    Column(
        "closed_year", lambda n: n.public_closed_year, "Year closed or merged; empty if active."
    ),
    Column("merged_into", lambda n: slug_of(n.merged_into), "Slug of the network it merged into."),
    Column("headquarters", lambda n: slug_of(n.headquarters), "City slug of the headquarters."),
    Column("headquarters_country", lambda n: country_of(n.headquarters), "Its ISO country code."),
    THEME_COLUMN,
    Column("members_listed", lambda n: n.member_total, "Published member cities catalogued."),
    Column("member_count_reported", lambda n: n.member_count, "Member count it reports."),
    Column("member_count_year", lambda n: n.member_count_year, "Year of the reported count."),
    Column("website", lambda n: n.website, "Official website."),
    *SOURCE_COLUMNS,
]

AGREEMENT_COLUMNS = [
    Column("slug", lambda a: a.slug, "Stable identifier, also the end of the record's URL."),
    Column("title", lambda a: a.title, "Title of the instrument."),
    Column("kind", lambda a: a.kind, "cooperation, mou, friendship, pact or declaration."),
    Column("signed_year", lambda a: a.signed_year, "Year signed or adopted."),
    Column("signed_on", lambda a: a.signed_on, "Exact date, when a source gives it."),
    Column("place", lambda a: slug_of(a.place), "City slug of the place of signature."),
    Column("forum", lambda a: a.forum, "Conference or summit where it was adopted."),
    Column("network", lambda a: slug_of(a.network), "Slug of the network behind it."),
    Column("status", lambda a: a.status, "in_force, expired, terminated, suspended, unknown."),
    Column("status_year", lambda a: a.status_year, "Year of the current status."),
    Column("party_count", lambda a: a.party_count, "Published cities with an action on it."),
    Column(
        "parties_reported",
        lambda a: a.parties_reported,
        "How many parties the instrument's own list (or the fullest source) names.",
    ),
    Column(
        "parties_reported_year", lambda a: a.parties_reported_year, "Year of the reported number."
    ),
    THEME_COLUMN,
    Column("text_url", lambda a: a.text_url, "Link to the text."),
    *SOURCE_COLUMNS,
]

TWINNING_COLUMNS = [
    Column("id", lambda t: t.pk, "Stable identifier, also the end of the record's URL.", "pk"),
    Column("city_a", lambda t: t.city_a.slug, "Slug of one place.", "city_a__slug"),
    Column("city_a_name", lambda t: t.city_a.name, "Its name.", "name_a"),
    Column(
        "city_a_country",
        lambda t: t.city_a.country.code,
        "Its ISO country code.",
        "country_a",
    ),
    Column("city_b", lambda t: t.city_b.slug, "Slug of the other place.", "city_b__slug"),
    Column("city_b_name", lambda t: t.city_b.name, "Its name.", "name_b"),
    Column(
        "city_b_country",
        lambda t: t.city_b.country.code,
        "Its ISO country code.",
        "country_b",
    ),
    Column(
        "kind",
        lambda t: t.kind,
        "twin_town, sister_city, partner_city, friendship_city.",
        "kind",
    ),
    Column("start_year", lambda t: t.start_year, "Year it started.", "start_year"),
    Column(
        "start_on", lambda t: t.start_on, "Exact start date, when a source gives it.", "start_on"
    ),
    Column("status", lambda t: t.status, "active, suspended or terminated.", "status"),
    Column(
        "status_year", lambda t: t.status_year, "Year of the last status change.", "status_year"
    ),
    Column(
        "status_on", lambda t: t.status_on, "Exact date of the last status change.", "status_on"
    ),
    Column("status_reason", lambda t: t.status_reason, "Why the status changed.", "status_reason"),
    Column(
        "status_act",
        lambda t: t.status_act,
        "The deciding act (council resolution...).",
        "status_act",
    ),
    Column(
        "themes", theme_slugs, "Theme slugs (CSV: separated by '; ').", "themes__slug", many=True
    ),
    Column(
        "other_values",
        lambda t: [value.as_export() for value in t.conflicting_values.all()],
        "Values other sources give for a field (CSV: 'field=value (source keys)', separated "
        "by '; '; JSON: objects with field, value, sources and notes).",
        bulk=lambda twinnings: other_values_by_pk(twinnings, "twinning"),
    ),
    *SOURCE_COLUMNS,
]


def other_values_by_pk(queryset, owner):
    """{record pk: [its conflicting values for export]} for every record of `queryset`."""
    values = ConflictingValue.objects.filter(**{f"{owner}__in": queryset.values("pk")})
    return {
        pk: [value.as_export() for value in group] for pk, group in values.grouped_by(owner).items()
    }


ACTIVITY_COLUMNS = [
    Column("slug", lambda a: a.slug, "Stable identifier, also the end of the record's URL."),
    Column("title", lambda a: a.title, "Title."),
    Column("kind", lambda a: a.kind, "development, humanitarian, office, trade_mission, ..."),
    Column("lead_city", lambda a: slug_of(a.lead_city), "Slug of the leading city."),
    Column("lead_city_country", lambda a: country_of(a.lead_city), "Its ISO country code."),
    Column(
        "partner_cities",
        lambda a: [city.slug for city in a.partner_cities.all()],
        "Slugs of published partner cities (CSV: separated by '; ').",
        prefetch=(Prefetch("partner_cities", City.objects.published()),),
    ),
    Column("partner_count", lambda a: a.partner_count, "Number of published partner cities."),
    Column("start_year", lambda a: a.start_year, "Year it started."),
    Column("end_year", lambda a: a.end_year, "Year it ended; empty if ongoing or unknown."),
    Column(
        "place",
        lambda a: slug_of(a.place),
        "Where it takes place, if not the lead city.",
        prefetch=("place",),
    ),
    Column("budget", lambda a: a.budget, "Budget, in budget_currency."),
    Column("budget_currency", lambda a: a.budget_currency, "ISO 4217 code."),
    THEME_COLUMN,
    *SOURCE_COLUMNS,
]

MEMBERSHIP_COLUMNS = [
    Column("id", lambda m: m.pk, "Stable identifier of the membership."),
    Column("network", lambda m: m.network.slug, "Slug of the network."),
    Column("network_name", lambda m: m.network.name, "Its name."),
    Column("city", lambda m: m.city.slug, "Slug of the member city."),
    Column("city_name", lambda m: m.city.name, "Its name."),
    Column("city_country", lambda m: m.city.country.code, "Its ISO country code."),
    Column("role", lambda m: m.role, "member, founding_member, board, chair, observer."),
    Column("category", lambda m: m.category, "The network's own division (a creative field)."),
    Column("joined_year", lambda m: m.joined_year, "Year it joined."),
    Column("left_year", lambda m: m.left_year, "Year it left; empty if still a member."),
    *SOURCE_COLUMNS,
]

AGREEMENT_PARTY_COLUMNS = [
    Column("id", lambda p: p.pk, "Stable identifier of the party's action."),
    Column("agreement", lambda p: p.agreement.slug, "Slug of the agreement."),
    Column("agreement_title", lambda p: p.agreement.title, "Its title."),
    Column("city", lambda p: p.city.slug, "Slug of the city."),
    Column("city_name", lambda p: p.city.name, "Its name."),
    Column("city_country", lambda p: p.city.country.code, "Its ISO country code."),
    Column("action", lambda p: p.action, "signed, endorsed, acceded or withdrew."),
    Column("year", lambda p: p.year, "Year of the action."),
    Column("date", lambda p: p.date, "Exact date of the action, when a source gives it."),
    *SOURCE_COLUMNS,
]


def _region(city):
    region = region_of(city.country.code) if city.country else None
    return region.value if region else ""


def country_names():
    """code -> country name, each name translated once a download, not once a row."""
    names = dict(countries)
    return lambda code: names.get(code, code)


def region_values():
    """code -> the value of its world region ("" when GeoNames does not know it)."""
    regions = region_by_country()
    return lambda code: regions[code].value if code in regions else ""


def twinning_counts(cities):
    """`bulk` reader: {city pk: its published twinnings, either side}, for every city of
    a download: the city list's own count (models.twinning_count), in a query of its
    own so the cities' query stays plain. Two index-only counts per city took 50 and
    94 ms for Europe's 12,000 cities at ten times the twinnings (SQLite, PostgreSQL),
    against 56 and 138 ms for one grouped pass over both sides of every twinning."""
    counted = cities.order_by().annotate(twinnings_counted=twinning_count())
    return dict(counted.values_list("pk", "twinnings_counted").iterator(chunk_size=CHUNK_SIZE))


def network_counts(cities):
    """`bulk` reader: {city pk: networks it is a published member of}, in one grouped
    query."""
    return dict(
        Membership.objects.published()
        .filter(city__in=cities.values("pk"))
        .order_by()
        .values_list("city")
        .annotate(n=Count("pk"))
    )


CITY_COLUMNS = [
    Column(
        "slug", lambda c: c.slug, "Stable identifier, also the end of the record's URL.", "slug"
    ),
    Column("name", lambda c: c.name, "Name in English usage.", "name"),
    Column(
        "country", lambda c: c.country.code, "ISO 3166-1 alpha-2 code (XK for Kosovo).", "country"
    ),
    Column(
        "country_name",
        lambda c: c.country.name,
        "Country name in English.",
        "country",
        convert=country_names,
    ),
    Column(
        "region",
        _region,
        "World region derived from the country (GeoNames continent).",
        "country",
        convert=region_values,
    ),
    Column(
        "subdivision",
        lambda c: c.subdivision,
        "State, region or province, where known.",
        "subdivision",
    ),
    Column(
        "kind",
        lambda c: c.kind,
        "city, town, municipality, district, region, metropolis.",
        "kind",
    ),
    Column("is_capital", lambda c: c.is_capital, "true for national capitals.", "is_capital"),
    Column("population", lambda c: c.population, "Population (GeoNames).", "population"),
    Column(
        "population_year",
        lambda c: c.population_year,
        "Year of the population figure.",
        "population_year",
    ),
    Column("latitude", lambda c: c.latitude, "WGS84 decimal degrees (GeoNames).", "latitude"),
    Column("longitude", lambda c: c.longitude, "WGS84 decimal degrees (GeoNames).", "longitude"),
    Column("geonames_id", lambda c: c.geonames_id, "GeoNames identifier.", "geonames_id"),
    Column("wikidata_id", lambda c: c.wikidata_id, "Wikidata identifier (Q...).", "wikidata_id"),
    Column(
        "twinning_count",
        lambda c: c.twinning_count,
        "Published twinnings, either side.",
        bulk=twinning_counts,
        missing=0,
    ),
    Column(
        "network_count",
        lambda c: c.network_count,
        "Networks it is a published member of.",
        bulk=network_counts,
        missing=0,
    ),
    *SOURCE_COLUMNS,
]


def table_response(header, rows, *, name):
    """A small computed table (the analysis page's) as a CSV download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([csv_value(value) for value in row] for row in rows)  # formulas neutralised
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"citydiplo-{name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

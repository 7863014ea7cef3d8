"""Build the loadable catalogue (fixtures/catalogue.json) from the curated CSV files.

The CSV files under fixtures/ are what editors read and fix; this module checks them
and turns them into one Django fixture with natural keys. See fixtures/README.md.
"""

import csv
import datetime
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django_countries import countries

from cities.models import PlaceKind
from citydiplo.records import DatePrecision

from .models import (
    ActivityKind,
    AgreementKind,
    AgreementStatus,
    Field,
    MembershipRole,
    NetworkScope,
    PartyAction,
    SourceKind,
    TwinningKind,
    TwinningStatus,
)

# Fixture records carry fixed timestamps so that rebuilding and reloading an unchanged
# catalogue changes nothing.
CATALOGUE_TIMESTAMP = "2026-11-25T00:00:00Z"

COLUMNS = {
    "sources": "key,title,url,publisher,kind,published_on,accessed_on",
    "themes": "slug,name,field,description",
    "cities": "slug,name,country,subdivision,kind,is_capital,geonames_id,wikidata_id,summary,sources,notes",
    "networks": "slug,name,acronym,founded_year,founded_on,founding_place,headquarters,closed_year,closed_on,merged_into,scope,region_covered,themes,website,summary,member_count,member_count_year,sources,notes",
    "memberships": "network,city,role,joined_year,left_year,category,sources,notes",
    "agreements": "slug,title,kind,signed_year,signed_on,place,forum,network,status,status_year,status_on,summary,text_url,themes,sources,notes",
    "parties": "agreement,city,action,year,on,sources,notes",
    "twinnings": "city_a,city_b,kind,start_year,start_on,status,status_year,status_on,status_reason,status_act,themes,sources,notes",
    "activities": "slug,title,kind,lead_city,partner_cities,other_partners,start_year,start_on,end_year,end_on,place,themes,summary,budget,budget_currency,sources,notes",
}
COLUMNS = {kind: columns.split(",") for kind, columns in COLUMNS.items()}

SLUG_RE = re.compile(r"^[-a-z0-9_]+$")
CURRENT_YEAR = datetime.date.today().year


class CatalogueError(Exception):
    """The CSV files hold errors; `errors` lists them as 'file:line: message'."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s) in the curated files")


@dataclass
class Row:
    path: Path
    line: int
    values: dict

    def where(self):
        return f"{self.path.as_posix()}:{self.line}"


@dataclass
class Builder:
    root: Path
    gazetteer: object = None  # cities.gazetteer.Gazetteer, for coordinates and population
    errors: list = field(default_factory=list)

    # Reading -------------------------------------------------------------------------

    def files(self, kind_dir, pattern="*.csv"):
        return sorted((self.root / kind_dir).glob(pattern))

    def read(self, path, kind):
        rows = []
        if not path.exists():
            return rows  # a kind of record with no file yet: nothing to build
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames or []
                if header != COLUMNS[kind]:
                    missing = [c for c in COLUMNS[kind] if c not in header]
                    extra = [c for c in header if c not in COLUMNS[kind]]
                    self.errors.append(
                        f"{path.as_posix()}:1: header does not match the {kind} columns "
                        f"(missing: {missing or 'none'}; unexpected: {extra or 'none'}; "
                        f"expected order: {','.join(COLUMNS[kind])})"
                    )
                    return []
                for row in reader:
                    if None in row or any(v is None for v in row.values()):
                        self.errors.append(
                            f"{path.as_posix()}:{reader.line_num}: wrong number of columns"
                        )
                        continue
                    values = {k: v.strip() for k, v in row.items()}
                    if not any(values.values()):
                        continue
                    rows.append(Row(path, reader.line_num, values))
        except UnicodeDecodeError as exc:
            self.errors.append(f"{path.as_posix()}: not UTF-8 ({exc})")
        return rows

    def read_all(self, kind, *paths):
        return [row for path in paths for row in self.read(path, kind)]

    # Cell parsers: each reports an error and returns None on a bad value --------------

    def error(self, row, message):
        self.errors.append(f"{row.where()}: {message}")

    def required(self, row, column):
        value = row.values[column]
        if not value:
            self.error(row, f"{column} is required")
        return value

    def choice(self, row, column, choices, *, blank=False):
        value = row.values[column]
        if not value and blank:
            return ""
        if value not in choices.values:
            self.error(row, f"{column}={value!r} is not one of {', '.join(choices.values)}")
        return value

    def year(self, row, column):
        value = row.values[column]
        if not value:
            return None
        if not value.isdigit() or not 800 <= int(value) <= CURRENT_YEAR:
            self.error(row, f"{column}={value!r} is not a plausible year (800-{CURRENT_YEAR})")
            return None
        return int(value)

    def partial_date(self, row, column, year):
        """'YYYY-MM-DD' or 'YYYY-MM' -> (iso date, precision); checks it agrees with year."""
        value = row.values[column]
        if not value:
            return None, DatePrecision.YEAR if year else ""
        try:
            if re.fullmatch(r"\d{4}-\d{2}", value):
                date, precision = datetime.date.fromisoformat(value + "-01"), DatePrecision.MONTH
            else:
                date, precision = datetime.date.fromisoformat(value), DatePrecision.DAY
        except ValueError:
            self.error(row, f"{column}={value!r} is not a date (YYYY-MM-DD or YYYY-MM)")
            return None, ""
        if date > datetime.date.today():
            self.error(row, f"{column}={value!r} is in the future")
        if year is None:
            self.error(row, f"{column} is given, so its year must be given too")
        elif date.year != year:
            self.error(row, f"{column}={value!r} disagrees with the year {year}")
        return date.isoformat(), precision

    def integer(self, row, column):
        value = row.values[column].replace(",", "").replace("_", "")
        if not value:
            return None
        if not value.isdigit():
            self.error(row, f"{column}={row.values[column]!r} is not a whole number")
            return None
        return int(value)

    def slug(self, row, column):
        value = self.required(row, column)
        if value and not SLUG_RE.match(value):
            self.error(row, f"{column}={value!r} is not a slug (lowercase letters, digits, -)")
        return value

    def refs(self, row, column, known, what, *, required=False):
        keys = [k.strip() for k in row.values[column].split(";") if k.strip()]
        for key in keys:
            if key not in known:
                self.error(row, f"{column}: unknown {what} {key!r}")
        if required and not keys:
            self.error(row, f"{column}: cite at least one {what}")
        return [[k] for k in keys if k in known]

    def ref(self, row, column, known, what):
        value = row.values[column]
        if not value:
            return None
        if value not in known:
            self.error(row, f"{column}: unknown {what} {value!r}")
            return None
        return [value]

    def url(self, row, column, *, required=False):
        value = row.values[column]
        if required and not value:
            self.error(row, f"{column} is required")
        if value and not re.match(r"^https?://[^\s/$.?#].[^\s]*$", value):
            self.error(row, f"{column}={value!r} is not an http(s) URL")
        return value

    # Building ------------------------------------------------------------------------

    def build(self):
        """Return the list of fixture objects, or raise CatalogueError."""
        stamp = {"created_at": CATALOGUE_TIMESTAMP, "updated_at": CATALOGUE_TIMESTAMP}
        sources = self.build_sources()
        themes = self.build_themes()
        cities, city_sources = self.build_cities(set(sources))
        for key, city_slugs in city_sources.items():
            sources[key]["fields"]["cities"] = [[slug] for slug in sorted(city_slugs)]
        networks = self.build_networks(cities, themes, sources)
        objects = [{"model": "cities.city", "fields": {**c, **stamp}} for c in cities.values()]
        objects += list(sources.values())
        objects += [{"model": "activities.theme", "fields": t} for t in themes.values()]
        objects += [{"model": "activities.network", "fields": {**n, **stamp}} for n in networks]
        objects += self.build_memberships(cities, {n["slug"] for n in networks}, sources, stamp)
        agreements = self.build_agreements(cities, themes, sources, networks, stamp)
        objects += agreements
        objects += self.build_parties(cities, {a["fields"]["slug"] for a in agreements}, sources)
        objects += self.build_twinnings(cities, themes, sources, stamp)
        objects += self.build_activities(cities, themes, sources, stamp)
        if self.errors:
            raise CatalogueError(self.errors)
        return objects

    def build_sources(self):
        sources = {}
        for row in self.read_all("sources", *self.files("sources")):
            v = row.values
            key = self.slug(row, "key")
            fields = {
                "key": key,
                "title": self.required(row, "title"),
                "url": self.url(row, "url", required=True),
                "publisher": v["publisher"],
                "kind": self.choice(row, "kind", SourceKind),
                "published_on": self.iso_date(row, "published_on"),
                "accessed_on": self.iso_date(row, "accessed_on"),
                "cities": [],
            }
            if key in sources:
                if sources[key]["fields"]["url"] != fields["url"]:
                    self.error(row, f"source key {key!r} is used twice with different URLs")
                continue
            sources[key] = {"model": "activities.source", "fields": fields}
        return sources

    def iso_date(self, row, column):
        value = row.values[column]
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            self.error(row, f"{column}={value!r} is not a date (YYYY-MM-DD)")
            return None

    def build_themes(self):
        themes = {}
        for row in self.read(self.root / "themes.csv", "themes"):
            slug = self.slug(row, "slug")
            if slug in themes:
                self.error(row, f"theme {slug!r} appears twice")
            themes[slug] = {
                "slug": slug,
                "name": self.required(row, "name"),
                "field": self.choice(row, "field", Field),
                "description": row.values["description"],
            }
        return themes

    def build_cities(self, source_keys):
        cities, city_sources = {}, {}
        geonames_ids = {}
        for row in self.read_all("cities", *self.files("cities")):
            v = row.values
            slug = self.slug(row, "slug")
            country = v["country"].upper()
            if country not in dict(countries):
                self.error(row, f"country={v['country']!r} is not an ISO 3166-1 alpha-2 code")
            geonames_id = self.integer(row, "geonames_id")
            cited = [k for k in v["sources"].split(";") if k.strip()]
            self.refs(row, "sources", source_keys, "source", required=True)
            fields = {
                "slug": slug,
                "name": self.required(row, "name"),
                "country": country,
                "subdivision": v["subdivision"],
                "kind": self.choice(row, "kind", PlaceKind),
                "is_capital": v["is_capital"] == "1",
                "geonames_id": geonames_id,
                "wikidata_id": v["wikidata_id"],
                "summary": v["summary"],
                "notes": v["notes"],
                "alternate_names": "",
                "latitude": None,
                "longitude": None,
                "population": None,
                "population_year": None,
            }
            if v["is_capital"] not in ("0", "1", ""):
                self.error(row, f"is_capital={v['is_capital']!r}: use 1 or 0")
            if v["wikidata_id"] and not re.fullmatch(r"Q\d+", v["wikidata_id"]):
                self.error(row, f"wikidata_id={v['wikidata_id']!r} is not like Q90")
            if geonames_id and self.gazetteer is not None:
                place = self.gazetteer.by_id(geonames_id)
                if place is None:
                    self.error(row, f"GeoNames id {geonames_id} is not in GeoNames' cities500")
                else:
                    if place.country != country:
                        self.error(
                            row,
                            f"GeoNames id {geonames_id} is {place.name} in {place.country}, "
                            f"not in {country}",
                        )
                    fields.update(
                        latitude=str(place.latitude),
                        longitude=str(place.longitude),
                        population=place.population or None,
                    )
            if slug in cities:
                merged = self.merge_city(row, cities[slug], fields)
                cities[slug] = merged
            else:
                cities[slug] = fields
            if geonames_id:
                other = geonames_ids.setdefault(geonames_id, slug)
                if other != slug:
                    self.error(row, f"GeoNames id {geonames_id} is used by {other!r} and {slug!r}")
            for key in cited:
                city_sources.setdefault(key.strip(), set()).add(slug)
        wikidata = {}
        for slug, fields in cities.items():
            if fields["wikidata_id"]:
                other = wikidata.setdefault(fields["wikidata_id"], slug)
                if other != slug:
                    self.errors.append(
                        f"cities: Wikidata id {fields['wikidata_id']} is used by {other!r} and {slug!r}"
                    )
        return cities, city_sources

    def merge_city(self, row, existing, new):
        """A city listed in several files: the rows must agree; blanks are filled in."""
        for name in ("country", "geonames_id", "name"):
            if existing[name] and new[name] and existing[name] != new[name]:
                self.error(
                    row,
                    f"city {new['slug']!r} is listed elsewhere with {name}={existing[name]!r}, "
                    f"here {new[name]!r}",
                )
        merged = dict(existing)
        for name, value in new.items():
            if value not in (None, "") and merged.get(name) in (None, ""):
                merged[name] = value
        merged["is_capital"] = existing["is_capital"] or new["is_capital"]
        return merged

    def build_networks(self, cities, themes, sources):
        rows = self.read(self.root / "networks.csv", "networks")
        slugs = {row.values["slug"] for row in rows}
        networks = []
        for row in rows:
            v = row.values
            founded_year = self.year(row, "founded_year")
            founded_on, founded_precision = self.partial_date(row, "founded_on", founded_year)
            closed_year = self.year(row, "closed_year")
            closed_on, closed_precision = self.partial_date(row, "closed_on", closed_year)
            if founded_year and closed_year and closed_year < founded_year:
                self.error(row, "closed before it was founded")
            if v["merged_into"] == v["slug"] and v["slug"]:
                self.error(row, "a network cannot merge into itself")
            networks.append(
                {
                    "slug": self.slug(row, "slug"),
                    "name": self.required(row, "name"),
                    "acronym": v["acronym"],
                    "founded_year": founded_year,
                    "founded_on": founded_on,
                    "founded_precision": founded_precision,
                    "founding_place": self.ref(row, "founding_place", cities, "city"),
                    "headquarters": self.ref(row, "headquarters", cities, "city"),
                    "closed_year": closed_year,
                    "closed_on": closed_on,
                    "closed_precision": closed_precision,
                    "merged_into": self.ref(row, "merged_into", slugs, "network"),
                    "scope": self.choice(row, "scope", NetworkScope),
                    "region_covered": v["region_covered"],
                    "themes": self.refs(row, "themes", themes, "theme"),
                    "website": self.url(row, "website"),
                    "summary": v["summary"],
                    "member_count": self.integer(row, "member_count"),
                    "member_count_year": self.year(row, "member_count_year"),
                    "notes": v["notes"],
                    "sources": self.refs(row, "sources", sources, "source", required=True),
                    "review_state": "published",
                }
            )
        self.check_unique(rows, ["slug"], "network")
        return networks

    def check_unique(self, rows, columns, what):
        seen = {}
        for row in rows:
            key = tuple(row.values[c] for c in columns)
            if key in seen:
                self.error(row, f"{what} {'/'.join(key)} already appears at {seen[key]}")
            else:
                seen[key] = row.where()

    def build_memberships(self, cities, network_slugs, sources, stamp):
        rows = self.read_all("memberships", *self.files("memberships"))
        self.check_unique(rows, ["network", "city"], "membership")
        objects = []
        for row in rows:
            v = row.values
            joined, left = self.year(row, "joined_year"), self.year(row, "left_year")
            if joined and left and left < joined:
                self.error(row, "left before it joined")
            objects.append(
                {
                    "model": "activities.membership",
                    "fields": {
                        "network": self.ref(row, "network", network_slugs, "network"),
                        "city": self.ref(row, "city", cities, "city"),
                        "role": self.choice(row, "role", MembershipRole),
                        "joined_year": joined,
                        "left_year": left,
                        "category": v["category"],
                        "notes": v["notes"],
                        "sources": self.refs(row, "sources", sources, "source", required=True),
                        "review_state": "published",
                        **stamp,
                    },
                }
            )
            for column in ("network", "city"):
                self.required(row, column)
        return objects

    def build_agreements(self, cities, themes, sources, networks, stamp):
        rows = self.read(self.root / "agreements" / "agreements.csv", "agreements")
        self.check_unique(rows, ["slug"], "agreement")
        network_slugs = {n["slug"] for n in networks}
        objects = []
        for row in rows:
            v = row.values
            signed_year = self.year(row, "signed_year")
            signed_on, signed_precision = self.partial_date(row, "signed_on", signed_year)
            status_year = self.year(row, "status_year")
            status_on, _ = self.partial_date(row, "status_on", status_year)
            if signed_year and status_year and status_year < signed_year:
                self.error(row, "the status changed before the agreement was signed")
            objects.append(
                {
                    "model": "activities.agreement",
                    "fields": {
                        "slug": self.slug(row, "slug"),
                        "title": self.required(row, "title"),
                        "kind": self.choice(row, "kind", AgreementKind),
                        "signed_year": signed_year,
                        "signed_on": signed_on,
                        "signed_precision": signed_precision,
                        "place": self.ref(row, "place", cities, "city"),
                        "forum": v["forum"],
                        "network": self.ref(row, "network", network_slugs, "network"),
                        "status": self.choice(row, "status", AgreementStatus),
                        "status_year": status_year,
                        "status_on": status_on,
                        "summary": v["summary"],
                        "text_url": self.url(row, "text_url"),
                        "themes": self.refs(row, "themes", themes, "theme"),
                        "notes": v["notes"],
                        "sources": self.refs(row, "sources", sources, "source", required=True),
                        "review_state": "published",
                        **stamp,
                    },
                }
            )
        return objects

    def build_parties(self, cities, agreement_slugs, sources):
        rows = self.read_all("parties", *self.files("agreements", "parties*.csv"))
        self.check_unique(rows, ["agreement", "city", "action"], "agreement party")
        objects = []
        for row in rows:
            year = self.year(row, "year")
            date, _ = self.partial_date(row, "on", year)
            objects.append(
                {
                    "model": "activities.agreementparty",
                    "fields": {
                        "agreement": self.ref(row, "agreement", agreement_slugs, "agreement"),
                        "city": self.ref(row, "city", cities, "city"),
                        "action": self.choice(row, "action", PartyAction),
                        "year": year,
                        "date": date,
                        "notes": row.values["notes"],
                        "sources": self.refs(row, "sources", sources, "source"),
                    },
                }
            )
        return objects

    def build_twinnings(self, cities, themes, sources, stamp):
        rows = self.read_all("twinnings", *self.files("twinnings"))
        seen = {}
        objects = []
        for row in rows:
            v = row.values
            a, b = v["city_a"], v["city_b"]
            if a and a == b:
                self.error(row, f"{a!r} is twinned with itself")
            pair = frozenset((a, b))
            if pair in seen:
                self.error(row, f"the pair {a} - {b} already appears at {seen[pair]}")
            seen[pair] = row.where()
            start_year = self.year(row, "start_year")
            start_on, start_precision = self.partial_date(row, "start_on", start_year)
            status = self.choice(row, "status", TwinningStatus)
            status_year = self.year(row, "status_year")
            status_on, _ = self.partial_date(row, "status_on", status_year)
            if start_year and status_year and status_year < start_year:
                self.error(row, "the status changed before the twinning started")
            if status in ("suspended", "terminated") and not status_year:
                self.error(row, f"a {status} twinning needs the status_year")
            objects.append(
                {
                    "model": "activities.twinning",
                    "fields": {
                        "city_a": self.ref(row, "city_a", cities, "city"),
                        "city_b": self.ref(row, "city_b", cities, "city"),
                        "kind": self.choice(row, "kind", TwinningKind),
                        "start_year": start_year,
                        "start_on": start_on,
                        "start_precision": start_precision,
                        "status": status,
                        "status_year": status_year,
                        "status_on": status_on,
                        "status_reason": v["status_reason"],
                        "status_act": v["status_act"],
                        "themes": self.refs(row, "themes", themes, "theme"),
                        "notes": v["notes"],
                        "sources": self.refs(row, "sources", sources, "source", required=True),
                        "review_state": "published",
                        **stamp,
                    },
                }
            )
            for column in ("city_a", "city_b"):
                self.required(row, column)
        return objects

    def build_activities(self, cities, themes, sources, stamp):
        rows = self.read_all("activities", *self.files("activities"))
        self.check_unique(rows, ["slug"], "activity")
        objects = []
        for row in rows:
            v = row.values
            start_year = self.year(row, "start_year")
            start_on, start_precision = self.partial_date(row, "start_on", start_year)
            end_year = self.year(row, "end_year")
            end_on, end_precision = self.partial_date(row, "end_on", end_year)
            if start_year and end_year and end_year < start_year:
                self.error(row, "ends before it starts")
            budget = None
            if v["budget"]:
                try:
                    budget = str(Decimal(v["budget"].replace(",", "")))
                except InvalidOperation:
                    self.error(row, f"budget={v['budget']!r} is not a number")
                if not re.fullmatch(r"[A-Z]{3}", v["budget_currency"]):
                    self.error(row, "a budget needs its ISO 4217 currency (EUR, USD...)")
            objects.append(
                {
                    "model": "activities.activity",
                    "fields": {
                        "slug": self.slug(row, "slug"),
                        "title": self.required(row, "title"),
                        "kind": self.choice(row, "kind", ActivityKind),
                        "lead_city": self.ref(row, "lead_city", cities, "city"),
                        "partner_cities": self.refs(row, "partner_cities", cities, "city"),
                        "other_partners": v["other_partners"].replace(";", "\n"),
                        "start_year": start_year,
                        "start_on": start_on,
                        "start_precision": start_precision,
                        "end_year": end_year,
                        "end_on": end_on,
                        "end_precision": end_precision,
                        "place": self.ref(row, "place", cities, "city"),
                        "themes": self.refs(row, "themes", themes, "theme"),
                        "summary": v["summary"],
                        "budget": budget,
                        "budget_currency": v["budget_currency"],
                        "notes": v["notes"],
                        "sources": self.refs(row, "sources", sources, "source", required=True),
                        "review_state": "published",
                        **stamp,
                    },
                }
            )
        return objects


def write_fixture(objects, path):
    """Write the fixture deterministically, so an unchanged catalogue gives the same bytes."""
    text = json.dumps(objects, ensure_ascii=False, indent=1, sort_keys=True)
    Path(path).write_text(text + "\n", encoding="utf-8")

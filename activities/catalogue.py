"""Build the loadable catalogue from the curated CSV files under fixtures/.

The CSV files are what editors read and fix; this module reads them into Django fixture
objects with natural keys, and checks every record with the models' own rules (field
validators, `clean()` and check constraints: the rules the admin and the imports apply),
naming the file and line of a row that breaks one. See fixtures/README.md.

Nothing built is committed: `load_catalogue` builds from the CSV files, keeping the
result under `.cache/` keyed by a hash of the files, so a second load skips the build.
"""

import contextlib
import csv
import datetime
import hashlib
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from citydiplo.records import DatePrecision

from .loading import NATURAL_KEYS, fixture_key
from .models import DISPUTED_FIELDS, parse_partial_date

# Fixture records carry fixed timestamps so that rebuilding and reloading an unchanged
# catalogue changes nothing.
CATALOGUE_TIMESTAMP = "2026-11-25T00:00:00Z"

COLUMNS = {
    "sources": "key,title,url,publisher,kind,published_on,accessed_on",
    "themes": "slug,name,field,description",
    "cities": "slug,name,country,subdivision,kind,is_capital,geonames_id,wikidata_id,summary,sources,notes",
    "networks": "slug,name,acronym,founded_year,founded_on,founding_place,headquarters,closed_year,closed_on,merged_into,scope,region_covered,themes,website,summary,member_count,member_count_year,sources,notes",
    "memberships": "network,city,role,joined_year,left_year,category,sources,notes",
    "agreements": "slug,title,kind,signed_year,signed_on,place,forum,network,status,status_year,status_on,summary,text_url,parties_reported,parties_reported_year,themes,sources,notes",
    "parties": "agreement,city,action,year,on,sources,notes",
    "twinnings": "city_a,city_b,kind,start_year,start_on,status,status_year,status_on,status_reason,status_act,themes,sources,notes",
    "activities": "slug,title,kind,lead_city,partner_cities,other_partners,start_year,start_on,end_year,end_on,place,themes,summary,budget,budget_currency,sources,notes",
    "conflicts": "kind,record,field,value,sources,notes",
}
COLUMNS = {kind: columns.split(",") for kind, columns in COLUMNS.items()}

# The key a city row cites for "GeoNames": the builder replaces it with the city's own
# GeoNames page, generated from its id (https://www.geonames.org/<id>).
GEONAMES_KEY = "geonames"
# A conflicts file names its record's kind as the curators do; the model calls it so.
CONFLICT_OWNERS = {"twinning": "twinning", "membership": "membership", "agreement_party": "party"}


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
    gazetteer: object = None  # anything with by_id(geonames_id): coordinates, population
    errors: list = field(default_factory=list)
    origins: dict = field(default_factory=dict)  # id(fixture object) -> its Row

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

    # Cell parsers: they turn text into values and report text they cannot read. The
    # rules a value must follow (ranges, dates in order, choices) are the models': see
    # validate().

    def error(self, row, message):
        self.errors.append(f"{row.where()}: {message}")

    def year(self, row, column):
        value = row.values[column]
        if not value:
            return None
        if not value.isdigit():
            self.error(row, f"{column}={value!r} is not a year")
            return None
        return int(value)

    def partial_date(self, row, column):
        """'YYYY-MM-DD' or 'YYYY-MM' -> (iso date, its precision), or (None, '')."""
        value = row.values[column]
        if not value:
            return None, ""
        try:
            year, date, precision = parse_partial_date(value)
        except ValueError:
            date = None
        if date is None:
            self.error(row, f"{column}={value!r} is not a date (YYYY-MM-DD or YYYY-MM)")
            return None, ""
        return date.isoformat(), precision

    @staticmethod
    def precision(year, precision):
        """A year alone is a date of year precision."""
        return precision or (DatePrecision.YEAR if year else "")

    def integer(self, row, column):
        value = row.values[column].replace(",", "").replace("_", "")
        if not value:
            return None
        if not value.isdigit():
            self.error(row, f"{column}={row.values[column]!r} is not a whole number")
            return None
        return int(value)

    def required(self, row, column):
        value = row.values[column]
        if not value:
            self.error(row, f"{column} is required")
        return value

    def refs(self, row, column, known, what, *, required=False):
        keys = [k.strip() for k in row.values[column].split(";") if k.strip()]
        for key in keys:
            if key not in known:
                self.error(row, f"{column}: unknown {what} {key!r}")
        if required and not keys:
            self.error(row, f"{column}: cite at least one {what}")
        return [[k] for k in keys if k in known]

    def ref(self, row, column, known, what, *, required=False):
        value = row.values[column]
        if not value:
            if required:
                self.error(row, f"{column} is required")
            return None
        if value not in known:
            self.error(row, f"{column}: unknown {what} {value!r}")
            return None
        return [value]

    def iso_date(self, row, column):
        value = row.values[column]
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            self.error(row, f"{column}={value!r} is not a date (YYYY-MM-DD)")
            return None

    # Building ------------------------------------------------------------------------

    def build(self):
        """Return the list of fixture objects, or raise CatalogueError."""
        stamp = {"created_at": CATALOGUE_TIMESTAMP, "updated_at": CATALOGUE_TIMESTAMP}
        sources = self.build_sources()
        themes = self.build_themes()
        cities, city_sources = self.build_cities(sources)
        for key, city_slugs in city_sources.items():
            sources[key]["fields"]["cities"] = [[slug] for slug in sorted(city_slugs)]
        networks = self.build_networks(cities, themes, sources, stamp)
        memberships = self.build_memberships(cities, networks, sources, stamp)
        agreements = self.build_agreements(cities, themes, sources, networks, stamp)
        parties = self.build_parties(cities, agreements, sources)
        twinnings = self.build_twinnings(cities, themes, sources, stamp)
        objects = [
            *(self.emit(row, "cities.city", {**c, **stamp}) for row, c in cities.values()),
            *sources.values(),
            *(self.emit(row, "activities.theme", t) for row, t in themes.values()),
            *networks.values(),
            *memberships.values(),
            *agreements.values(),
            *parties.values(),
            *twinnings.values(),
            *self.build_activities(cities, themes, sources, stamp),
            *self.build_conflicts(sources, memberships, parties, twinnings),
        ]
        if not self.errors:
            self.validate(objects)
        if self.errors:
            raise CatalogueError(self.errors)
        return objects

    def emit(self, row, label, fields):
        """A fixture object, remembering the row it came from for validate()'s messages."""
        obj = {"model": label, "fields": fields}
        self.origins[id(obj)] = row
        return obj

    # The models' rules ----------------------------------------------------------------

    def validate(self, objects):
        """Check every object with its model's rules, as the admin does.

        Each object becomes an unsaved model instance whose foreign keys point at the
        instances built before it (numbered in memory), and goes through the model's
        field validation, its clean() and its check constraints. Uniqueness across rows
        is checked while reading (check_unique): no database is involved.
        """
        instances = {}  # label -> {natural key: instance}
        valid = {}  # (id(field), value) -> cleaned value, for values a field accepted
        for label in NATURAL_KEYS:
            model = apps.get_model(label)
            built = instances.setdefault(label, {})
            batch = [obj for obj in objects if obj["model"] == label]
            for number, obj in enumerate(batch, start=1):
                instance = self.instance(model, obj["fields"])
                instance.pk = number
                built[fixture_key(label, obj["fields"])] = instance
            for obj in batch:
                instance = built[fixture_key(label, obj["fields"])]
                self.set_relations(instance, obj["fields"], instances)
                row = self.origins.get(id(obj))
                for message in model_errors(instance, valid):
                    where = row.where() if row else f"{label} {fixture_key(label, obj['fields'])}"
                    self.errors.append(f"{where}: {message}")

    @staticmethod
    def instance(model, fields):
        """An unsaved instance with the object's own columns as the fixture writes them
        (relations come later): clean_fields() converts them, or reports by field name
        a value it cannot read."""
        return model(
            **{
                model_field.attname: fields[model_field.name]
                for model_field in model._meta.concrete_fields
                if not model_field.primary_key
                and not model_field.is_relation
                and model_field.name in fields
            }
        )

    @staticmethod
    def set_relations(instance, fields, instances):
        for model_field in instance._meta.concrete_fields:
            if not model_field.is_relation or model_field.name not in fields:
                continue
            value = fields[model_field.name]
            target = instances.get(model_field.related_model._meta.label_lower, {})
            related = target.get(tuple(value)) if value else None
            setattr(instance, model_field.name, related)

    # Records ----------------------------------------------------------------------------

    def build_sources(self):
        sources = {}
        for row in self.read_all("sources", *self.files("sources")):
            v = row.values
            key = v["key"]
            fields = {
                "key": key,
                "title": v["title"],
                "url": v["url"],
                "publisher": v["publisher"],
                "kind": v["kind"],
                "published_on": self.iso_date(row, "published_on"),
                "accessed_on": self.iso_date(row, "accessed_on"),
                "cities": [],
            }
            if key in sources:
                if sources[key]["fields"]["url"] != fields["url"]:
                    self.error(row, f"source key {key!r} is used twice with different URLs")
                continue
            sources[key] = self.emit(row, "activities.source", fields)
        return sources

    def build_themes(self):
        rows = self.read(self.root / "themes.csv", "themes")
        self.check_unique(rows, ["slug"], "theme")
        return {
            row.values["slug"]: (
                row,
                {
                    "slug": row.values["slug"],
                    "name": row.values["name"],
                    "field": row.values["field"],
                    "description": row.values["description"],
                },
            )
            for row in rows
        }

    def build_cities(self, sources):
        """Cities by slug, as (first row, fields); and {source key: slugs citing it}.

        A city with a GeoNames id cites its own GeoNames page, a source generated here
        (in place of the GeoNames homepage, which a row may still name).
        """
        cities, city_sources = {}, {}
        geonames_ids = {}
        homepage = sources.get(GEONAMES_KEY, {}).get("fields", {})
        for row in self.read_all("cities", *self.files("cities")):
            v = row.values
            slug = v["slug"]
            country = v["country"].upper()
            geonames_id = self.integer(row, "geonames_id")
            cited = [k.strip() for k in v["sources"].split(";") if k.strip()]
            self.refs(row, "sources", sources, "source", required=True)
            fields = {
                "slug": slug,
                "name": v["name"],
                "country": country,
                "subdivision": v["subdivision"],
                "kind": v["kind"],
                "is_capital": v["is_capital"] == "1",
                "geonames_id": geonames_id,
                "wikidata_id": v["wikidata_id"],
                "summary": v["summary"],
                "notes": v["notes"],
                "latitude": None,
                "longitude": None,
                "population": None,
                "population_year": None,
            }
            if v["is_capital"] not in ("0", "1", ""):
                self.error(row, f"is_capital={v['is_capital']!r}: use 1 or 0")
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
                cities[slug] = (cities[slug][0], self.merge_city(row, cities[slug][1], fields))
            else:
                cities[slug] = (row, fields)
            if geonames_id:
                other = geonames_ids.setdefault(geonames_id, slug)
                if other != slug:
                    self.error(row, f"GeoNames id {geonames_id} is used by {other!r} and {slug!r}")
                cited = [k for k in cited if k != GEONAMES_KEY]
            for key in cited:
                city_sources.setdefault(key, set()).add(slug)
        for slug, (row, fields) in cities.items():
            if fields["geonames_id"]:
                key = f"geonames-{fields['geonames_id']}"
                sources[key] = self.emit(
                    row,
                    "activities.source",
                    {
                        "key": key,
                        "title": f"GeoNames: {fields['name']}",
                        "url": f"https://www.geonames.org/{fields['geonames_id']}",
                        "publisher": "GeoNames",
                        "kind": homepage.get("kind", "dataset"),
                        "published_on": None,
                        "accessed_on": homepage.get("accessed_on"),
                        "cities": [],
                    },
                )
                city_sources.setdefault(key, set()).add(slug)
        wikidata = {}
        for slug, (_row, fields) in cities.items():
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

    def build_networks(self, cities, themes, sources, stamp):
        rows = self.read(self.root / "networks.csv", "networks")
        self.check_unique(rows, ["slug"], "network")
        slugs = {row.values["slug"] for row in rows}
        networks = {}
        for row in rows:
            v = row.values
            founded_year = self.year(row, "founded_year")
            founded_on, founded_precision = self.partial_date(row, "founded_on")
            closed_year = self.year(row, "closed_year")
            closed_on, closed_precision = self.partial_date(row, "closed_on")
            networks[v["slug"]] = self.emit(
                row,
                "activities.network",
                {
                    "slug": v["slug"],
                    "name": v["name"],
                    "acronym": v["acronym"],
                    "founded_year": founded_year,
                    "founded_on": founded_on,
                    "founded_precision": self.precision(founded_year, founded_precision),
                    "founding_place": self.ref(row, "founding_place", cities, "city"),
                    "headquarters": self.ref(row, "headquarters", cities, "city"),
                    "closed_year": closed_year,
                    "closed_on": closed_on,
                    "closed_precision": self.precision(closed_year, closed_precision),
                    "merged_into": self.ref(row, "merged_into", slugs, "network"),
                    "scope": v["scope"],
                    "region_covered": v["region_covered"],
                    "themes": self.refs(row, "themes", themes, "theme"),
                    "website": v["website"],
                    "summary": v["summary"],
                    "member_count": self.integer(row, "member_count"),
                    "member_count_year": self.year(row, "member_count_year"),
                    "notes": v["notes"],
                    "sources": self.refs(row, "sources", sources, "source", required=True),
                    "review_state": "published",
                    **stamp,
                },
            )
        return networks

    def check_unique(self, rows, columns, what):
        seen = {}
        for row in rows:
            key = tuple(row.values[c] for c in columns)
            if key in seen:
                self.error(row, f"{what} {'/'.join(key)} already appears at {seen[key]}")
            else:
                seen[key] = row.where()

    def build_memberships(self, cities, networks, sources, stamp):
        """Memberships by (network, city)."""
        rows = self.read_all("memberships", *self.files("memberships"))
        self.check_unique(rows, ["network", "city"], "membership")
        memberships = {}
        for row in rows:
            v = row.values
            memberships[(v["network"], v["city"])] = self.emit(
                row,
                "activities.membership",
                {
                    "network": self.ref(row, "network", networks, "network", required=True),
                    "city": self.ref(row, "city", cities, "city", required=True),
                    "role": v["role"],
                    "joined_year": self.year(row, "joined_year"),
                    "left_year": self.year(row, "left_year"),
                    "category": v["category"],
                    "notes": v["notes"],
                    "sources": self.refs(row, "sources", sources, "source", required=True),
                    "review_state": "published",
                    **stamp,
                },
            )
        return memberships

    def build_agreements(self, cities, themes, sources, networks, stamp):
        rows = self.read(self.root / "agreements" / "agreements.csv", "agreements")
        self.check_unique(rows, ["slug"], "agreement")
        agreements = {}
        for row in rows:
            v = row.values
            signed_year = self.year(row, "signed_year")
            signed_on, signed_precision = self.partial_date(row, "signed_on")
            agreements[v["slug"]] = self.emit(
                row,
                "activities.agreement",
                {
                    "slug": v["slug"],
                    "title": v["title"],
                    "kind": v["kind"],
                    "signed_year": signed_year,
                    "signed_on": signed_on,
                    "signed_precision": self.precision(signed_year, signed_precision),
                    "place": self.ref(row, "place", cities, "city"),
                    "forum": v["forum"],
                    "network": self.ref(row, "network", networks, "network"),
                    "status": v["status"],
                    "status_year": self.year(row, "status_year"),
                    "status_on": self.partial_date(row, "status_on")[0],
                    "summary": v["summary"],
                    "text_url": v["text_url"],
                    "parties_reported": self.integer(row, "parties_reported"),
                    "parties_reported_year": self.year(row, "parties_reported_year"),
                    "themes": self.refs(row, "themes", themes, "theme"),
                    "notes": v["notes"],
                    "sources": self.refs(row, "sources", sources, "source", required=True),
                    "review_state": "published",
                    **stamp,
                },
            )
        return agreements

    def build_parties(self, cities, agreements, sources):
        """Agreement parties by (agreement, city, action)."""
        rows = self.read_all("parties", *self.files("agreements", "parties*.csv"))
        self.check_unique(rows, ["agreement", "city", "action"], "agreement party")
        parties = {}
        for row in rows:
            v = row.values
            parties[(v["agreement"], v["city"], v["action"])] = self.emit(
                row,
                "activities.agreementparty",
                {
                    "agreement": self.ref(row, "agreement", agreements, "agreement", required=True),
                    "city": self.ref(row, "city", cities, "city", required=True),
                    "action": v["action"],
                    "year": self.year(row, "year"),
                    "date": self.partial_date(row, "on")[0],
                    "notes": v["notes"],
                    "sources": self.refs(row, "sources", sources, "source"),
                },
            )
        return parties

    def build_twinnings(self, cities, themes, sources, stamp):
        """Twinnings by their pair of city slugs (a frozenset: either order)."""
        twinnings = {}
        for row in self.read_all("twinnings", *self.files("twinnings")):
            v = row.values
            pair = frozenset((v["city_a"], v["city_b"]))
            if pair in twinnings and len(pair) == 2:
                first = self.origins[id(twinnings[pair])].where()
                self.error(
                    row, f"the pair {v['city_a']} - {v['city_b']} already appears at {first}"
                )
                continue
            start_year = self.year(row, "start_year")
            start_on, start_precision = self.partial_date(row, "start_on")
            twinnings[pair] = self.emit(
                row,
                "activities.twinning",
                {
                    "city_a": self.ref(row, "city_a", cities, "city", required=True),
                    "city_b": self.ref(row, "city_b", cities, "city", required=True),
                    "kind": v["kind"],
                    "start_year": start_year,
                    "start_on": start_on,
                    "start_precision": self.precision(start_year, start_precision),
                    "status": v["status"],
                    "status_year": self.year(row, "status_year"),
                    "status_on": self.partial_date(row, "status_on")[0],
                    "status_reason": v["status_reason"],
                    "status_act": v["status_act"],
                    "themes": self.refs(row, "themes", themes, "theme"),
                    "notes": v["notes"],
                    "sources": self.refs(row, "sources", sources, "source", required=True),
                    "review_state": "published",
                    **stamp,
                },
            )
        return twinnings

    def build_activities(self, cities, themes, sources, stamp):
        rows = self.read_all("activities", *self.files("activities"))
        self.check_unique(rows, ["slug"], "activity")
        objects = []
        for row in rows:
            v = row.values
            start_year = self.year(row, "start_year")
            start_on, start_precision = self.partial_date(row, "start_on")
            end_year = self.year(row, "end_year")
            end_on, end_precision = self.partial_date(row, "end_on")
            budget = None
            if v["budget"]:
                try:
                    budget = str(Decimal(v["budget"].replace(",", "")))
                except InvalidOperation:
                    self.error(row, f"budget={v['budget']!r} is not a number")
            objects.append(
                self.emit(
                    row,
                    "activities.activity",
                    {
                        "slug": v["slug"],
                        "title": v["title"],
                        "kind": v["kind"],
                        "lead_city": self.ref(row, "lead_city", cities, "city"),
                        "partner_cities": self.refs(row, "partner_cities", cities, "city"),
                        "other_partners": v["other_partners"].replace(";", "\n"),
                        "start_year": start_year,
                        "start_on": start_on,
                        "start_precision": self.precision(start_year, start_precision),
                        "end_year": end_year,
                        "end_on": end_on,
                        "end_precision": self.precision(end_year, end_precision),
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
                )
            )
        return objects

    def build_conflicts(self, sources, memberships, parties, twinnings):
        """Other values sources give for a record's field (fixtures/conflicts/*.csv).

        `record` is the record's natural key: `city_a|city_b` (either order) for a
        twinning, `network|city` for a membership, `agreement|city` (or
        `agreement|city|action` when the city took several actions) for a party.
        """
        rows = self.read_all("conflicts", *self.files("conflicts"))
        self.check_unique(rows, ["kind", "record", "field", "value"], "conflicting value")
        objects = []
        for row in rows:
            v = row.values
            owner = CONFLICT_OWNERS.get(v["kind"])
            if owner is None:
                self.error(row, f"kind={v['kind']!r} is not one of {', '.join(CONFLICT_OWNERS)}")
                continue
            parts = [part.strip() for part in v["record"].split("|")]
            record = None
            if owner == "twinning" and len(parts) == 2:
                record = twinnings.get(frozenset(parts))
            elif owner == "membership" and len(parts) == 2:
                record = memberships.get(tuple(parts))
            elif owner == "party" and len(parts) == 3:
                record = parties.get(tuple(parts))
            elif owner == "party" and len(parts) == 2:
                actions = [key for key in parties if key[:2] == tuple(parts)]
                if len(actions) > 1:
                    self.error(row, "the city took several actions: write agreement|city|action")
                    continue
                record = parties[actions[0]] if actions else None
            if record is None:
                self.error(row, f"record: no {v['kind'].replace('_', ' ')} {v['record']!r}")
                continue
            label = record["model"]
            fields = {owner_name: None for owner_name in DISPUTED_FIELDS}
            fields[owner] = list(fixture_key(label, record["fields"]))
            objects.append(
                self.emit(
                    row,
                    "activities.conflictingvalue",
                    {
                        **fields,
                        "field": v["field"],
                        "value": v["value"],
                        "notes": v["notes"],
                        "sources": self.refs(row, "sources", sources, "source", required=True),
                    },
                )
            )
        return objects


def model_errors(instance, valid=None):
    """Messages for everything the model's rules find wrong with an unsaved instance:
    field validation (foreign keys excepted: the builder resolves those), clean() and
    the check constraints, as 'field: message'.

    `valid` ({(id(field), value): cleaned value}, shared across calls) spares checking a
    value again that a field already accepted: a field's own rules (to_python, choices,
    validators) depend on the value alone. A value a field refused is checked, and
    reported, for every record that holds it. Checking the 1,966 cities' countries
    against django-countries' choices alone took 1 s of a 2 s validation before.
    """
    valid = {} if valid is None else valid
    errors = {}
    exclude = {f.name for f in instance._meta.concrete_fields if f.is_relation}
    unchecked = []
    for f in instance._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(instance, f.attname)
        try:
            setattr(instance, f.attname, valid[(id(f), value)])
            exclude.add(f.name)
        except (KeyError, TypeError):  # not accepted yet, or unhashable: check it
            unchecked.append((f, value))
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    for f, value in unchecked:
        if f.name not in errors:
            with contextlib.suppress(TypeError):
                valid[(id(f), value)] = getattr(instance, f.attname)
    if not errors:  # clean() and the constraints expect well-formed values
        try:
            instance.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for constraint in instance._meta.constraints:
            if isinstance(constraint, models.CheckConstraint):
                try:
                    check_constraint(constraint, instance)
                except ValidationError as exc:
                    if not any(exc.messages[0] in m for m in errors.get(NON_FIELD_ERRORS, [])):
                        errors = exc.update_error_dict(errors)
    messages = []
    for name, field_messages in ValidationError(errors).message_dict.items() if errors else ():
        for message in dict.fromkeys(field_messages):
            messages.append(message if name == NON_FIELD_ERRORS else f"{name}: {message}")
    return messages


# Check constraints in Python: Django's CheckConstraint.validate() runs one query per
# record and constraint, and annotates every field on it: 25,000 queries and 50 s for
# this catalogue on 2 cores, against well under a second here. A condition this does
# not understand goes to Django's validate() (the test suite compares the two).
COMPARISONS = {
    "exact": lambda a, b: a == b,
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "in": lambda a, b: a in b,
}


class Unsupported(Exception):
    pass


def check_constraint(constraint, instance):
    """constraint.validate(model, instance), evaluated in memory when possible."""
    try:
        passes = evaluate(constraint.condition, instance) is not False
    except Unsupported:
        constraint.validate(type(instance), instance)
        return
    if not passes:
        raise ValidationError(
            constraint.get_violation_error_message(), code=constraint.violation_error_code
        )


def field_value(instance, name):
    if name == "pk":
        return instance.pk
    return getattr(instance, instance._meta.get_field(name).attname)


def evaluate(condition, instance):
    """SQL's three-valued truth of a Q over an instance: True, False or None (unknown)."""
    if not isinstance(condition, models.Q):
        raise Unsupported(condition)
    results = []
    for child in condition.children:
        if isinstance(child, models.Q):
            results.append(evaluate(child, instance))
            continue
        lookup, expected = child
        name, _, operator = lookup.partition("__")
        operator = operator or "exact"
        if isinstance(expected, models.F):
            expected = field_value(instance, expected.name)
        elif isinstance(expected, models.expressions.Combinable):
            raise Unsupported(lookup)
        try:
            actual = field_value(instance, name)
        except Exception as exc:
            raise Unsupported(lookup) from exc
        if operator == "isnull":
            results.append((actual is None) == bool(expected))
        elif operator not in COMPARISONS:
            raise Unsupported(lookup)
        elif actual is None or expected is None:
            results.append(None)
        else:
            results.append(COMPARISONS[operator](actual, expected))
    if condition.connector == models.Q.AND:
        result = False if False in results else None if None in results else True
    elif condition.connector == models.Q.OR:
        result = True if True in results else None if None in results else False
    else:
        raise Unsupported(condition.connector)
    if condition.negated and result is not None:
        result = not result
    return result


def write_fixture(objects, path):
    """Write the fixture deterministically, so an unchanged catalogue gives the same bytes."""
    text = json.dumps(objects, ensure_ascii=False, indent=1, sort_keys=True)
    Path(path).write_text(text + "\n", encoding="utf-8")


# Building on load, once per version of the files ----------------------------------------


def catalogue_hash(root):
    """A hash of every CSV file under `root` and of the code that builds them."""
    digest = hashlib.sha256()
    for path in [Path(__file__), *sorted(Path(root).rglob("*.csv"))]:
        digest.update(path.relative_to(path.parent.parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir():
    return Path(getattr(settings, "CATALOGUE_CACHE_DIR", settings.BASE_DIR / ".cache"))


def catalogue_objects(root=None, *, gazetteer=None):
    """The catalogue's fixture objects, built from the CSV files under `root`.

    A build is kept in `.cache/catalogue-<hash>.json`; the next call with the same files
    reads it instead of building again (a fraction of a second against several).
    Raises CatalogueError when the files hold errors.
    """
    root = Path(root or settings.BASE_DIR / "fixtures")
    cached = cache_dir() / f"catalogue-{catalogue_hash(root)}.json"
    if cached.exists():
        return json.loads(cached.read_text("utf-8"))
    if gazetteer is None:
        from cities.gazetteer import IdGazetteer

        gazetteer = IdGazetteer()
    objects = Builder(root=root, gazetteer=gazetteer).build()
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Other processes (test workers) may build at the same time: each writes its own
    # partial file, and none removes the file they all want.
    for stale in cached.parent.glob("catalogue-*.json"):
        if stale != cached:
            stale.unlink(missing_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    write_fixture(objects, partial)
    partial.replace(cached)
    return objects


def city_names(objects, root=None, *, gazetteer=None):
    """{city slug: [other names]} of the catalogue's cities with a GeoNames id: the
    exonyms, older names and names in other scripts GeoNames gives them (one spelling
    per normalised form). Kept in `.cache/city-names-<hash>.json` beside the built
    catalogue, so a second load skips reading GeoNames.
    """
    root = Path(root or settings.BASE_DIR / "fixtures")
    cached = cache_dir() / f"city-names-{catalogue_hash(root)}.json"
    if cached.exists():
        return json.loads(cached.read_text("utf-8"))
    if gazetteer is None:
        from cities.gazetteer import IdGazetteer

        gazetteer = IdGazetteer()
    names = {}
    for obj in objects:
        geonames_id = obj["fields"].get("geonames_id") if obj["model"] == "cities.city" else None
        if geonames_id:
            others = gazetteer.other_names(geonames_id)
            if others:
                names[obj["fields"]["slug"]] = others
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Other processes (test workers) may build at the same time: each writes its own
    # partial file, and none removes the file they all want.
    for stale in cached.parent.glob("city-names-*.json"):
        if stale != cached:
            stale.unlink(missing_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    write_fixture(names, partial)
    partial.replace(cached)
    return names

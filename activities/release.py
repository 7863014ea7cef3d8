"""The citable release: the published catalogue as a Frictionless Data Package.

One CSV per kind of record and per relation, `datapackage.json` describing each
(column types, primary and foreign keys), the licence and credits, a version named by
the date, and a SHA-256 for every file (in the package and in `SHA256SUMS`), zipped
once more as `citydiplo-<version>.zip` for the /data/ page.

Only published records go in; a link to a draft (a headquarters, a lead city) is left
empty, and a row of a relation that would name a draft is left out, so every foreign
key resolves. Rows are read with `values_list` and written as they come: the imported
world (40,000 cities and twinnings) takes a few seconds.
"""

import csv
import hashlib
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Case, F, When
from django.utils import timezone

from cities.models import City, OtherNames
from citydiplo.records import ReviewState

from .models import (
    Activity,
    Agreement,
    AgreementParty,
    ConflictingValue,
    Membership,
    Network,
    Source,
    Theme,
    Twinning,
)

PUBLISHED = ReviewState.PUBLISHED
CHUNK_SIZE = 5000
LICENCE = {
    "name": "CC-BY-SA-4.0",
    "title": "Creative Commons Attribution-ShareAlike 4.0 International",
    "path": "https://creativecommons.org/licenses/by-sa/4.0/",
}
ATTRIBUTION = (
    "CityDiplo, a catalogue of city diplomacy, shared under CC BY-SA 4.0. Its twin-town "
    "pairs come from Wikipedia's lists of twin towns and sister cities (text by Wikipedia "
    'contributors, CC BY-SA 4.0), compiled by Hekman/twincities; credit "Wikipedia '
    'contributors" and the compiler, and share adaptations alike. Coordinates and '
    "populations: GeoNames (CC BY 4.0). Each record cites its own sources (sources.csv "
    "and the *_sources.csv tables)."
)
SOURCES = [
    {
        "title": "Wikipedia contributors: lists of twin towns and sister cities "
        "(compiled by Hekman/twincities)",
        "path": "https://github.com/Hekman/twincities",
        "license": "CC-BY-SA-4.0",
    },
    {"title": "GeoNames", "path": "https://www.geonames.org/", "license": "CC-BY-4.0"},
]
VERSION_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Col:
    """A column: its name, the lookup it is read from, its Frictionless type."""

    name: str
    path: object  # a lookup or an expression
    type: str = "string"
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    queryset: object  # a function returning the rows' queryset
    columns: tuple
    primary_key: tuple
    foreign_keys: tuple = ()  # (column, table, its column)


def public_link(field, key="slug"):
    """The related record's key when it is published, else empty."""
    return Case(When(**{f"{field}__review_state": PUBLISHED}, then=F(f"{field}__{key}")))


def slug(description="Stable identifier, the end of the record's address."):
    return Col("slug", "slug", description=description, required=True)


def year(name, path=None, description=""):
    return Col(name, path or name, "integer", description)


def day(name, path=None, description=""):
    return Col(name, path or name, "date", description)


def owner_table(model):
    return {
        City: "cities",
        Network: "networks",
        Membership: "memberships",
        Agreement: "agreements",
        AgreementParty: "agreement_parties",
        Twinning: "twinnings",
        Activity: "activities",
        ConflictingValue: "conflicting_values",
    }[model]


def tables():
    """Every table of the package, in the order of datapackage.json."""
    published_cities = City.objects.published
    city_cols = (
        slug(),
        Col("name", "name", required=True),
        Col("alternate_names", OtherNames(), description="Other names, one a line."),
        Col("country", "country", description="ISO 3166-1 alpha-2 (XK: Kosovo).", required=True),
        Col("subdivision", "subdivision", description="State, region or province."),
        Col("kind", "kind", description="city, town, municipality, district, region, metropolis."),
        Col("is_capital", "is_capital", "boolean", "National capital."),
        Col("population", "population", "integer", "Population (GeoNames)."),
        year("population_year"),
        Col("latitude", "latitude", "number", "WGS84 (GeoNames)."),
        Col("longitude", "longitude", "number", "WGS84 (GeoNames)."),
        Col("geonames_id", "geonames_id", "integer", "GeoNames identifier."),
        Col("wikidata_id", "wikidata_id", description="Wikidata identifier (Q...)."),
        Col("summary", "summary"),
        Col("notes", "notes"),
    )
    result = [
        Table("cities", "Cities and places", published_cities, city_cols, ("slug",)),
        Table(
            "themes",
            "Themes, under Marchetti's five fields of operation",
            Theme.objects.all,
            (
                slug(),
                Col("name", "name", required=True),
                Col("field", "field", description="Field of operation.", required=True),
                Col("description", "description"),
            ),
            ("slug",),
        ),
        Table(
            "sources",
            "Sources the records cite",
            Source.objects.cited,
            (
                Col("key", "key", description="Stable key of the source.", required=True),
                Col("title", "title", required=True),
                Col("url", "url", description="Address of the cited page.", required=True),
                Col("publisher", "publisher"),
                Col("kind", "kind", description="official, news, academic, reference, dataset."),
                day("published_on"),
                day("accessed_on"),
            ),
            ("key",),
        ),
        Table(
            "networks",
            "City networks",
            Network.objects.published,
            (
                slug(),
                Col("name", "name", required=True),
                Col("acronym", "acronym"),
                Col("scope", "scope", description="global, regional or national."),
                Col("region_covered", "region_covered"),
                year("founded_year"),
                day("founded_on"),
                Col("founded_precision", "founded_precision", description="year, month, day."),
                Col("founding_place", public_link("founding_place"), description="City slug."),
                Col("headquarters", public_link("headquarters"), description="City slug."),
                year("closed_year"),
                day("closed_on"),
                Col("merged_into", public_link("merged_into"), description="Network slug."),
                Col("website", "website"),
                Col("member_count", "member_count", "integer", "Member count it reports."),
                year("member_count_year"),
                Col("summary", "summary"),
                Col("notes", "notes"),
            ),
            ("slug",),
            (
                ("founding_place", "cities", "slug"),
                ("headquarters", "cities", "slug"),
                ("merged_into", "networks", "slug"),
            ),
        ),
        Table(
            "memberships",
            "Network memberships",
            Membership.objects.published,
            (
                Col("id", "pk", "integer", "Stable identifier.", required=True),
                Col("network", "network__slug", required=True),
                Col("city", "city__slug", required=True),
                Col("role", "role", description="member, founding_member, board, chair, observer."),
                Col("category", "category"),
                year("joined_year"),
                year("left_year"),
                Col("notes", "notes"),
            ),
            ("id",),
            (("network", "networks", "slug"), ("city", "cities", "slug")),
        ),
        Table(
            "agreements",
            "Agreements, pacts and declarations",
            Agreement.objects.published,
            (
                slug(),
                Col("title", "title", required=True),
                Col("kind", "kind", description="cooperation, mou, friendship, pact, declaration."),
                year("signed_year"),
                day("signed_on"),
                Col("signed_precision", "signed_precision"),
                Col("place", public_link("place"), description="City slug."),
                Col("forum", "forum"),
                Col("network", public_link("network"), description="Network slug."),
                Col("status", "status"),
                year("status_year"),
                day("status_on"),
                Col("parties_reported", "parties_reported", "integer", "Parties its list names."),
                year("parties_reported_year"),
                Col("text_url", "text_url"),
                Col("summary", "summary"),
                Col("notes", "notes"),
            ),
            ("slug",),
            (("place", "cities", "slug"), ("network", "networks", "slug")),
        ),
        Table(
            "agreement_parties",
            "Parties' actions on agreements",
            AgreementParty.objects.published,
            (
                Col("id", "pk", "integer", "Stable identifier.", required=True),
                Col("agreement", "agreement__slug", required=True),
                Col("city", "city__slug", required=True),
                Col("action", "action", description="signed, endorsed, acceded, withdrew."),
                year("year"),
                day("date"),
                Col("notes", "notes"),
            ),
            ("id",),
            (("agreement", "agreements", "slug"), ("city", "cities", "slug")),
        ),
        Table(
            "twinnings",
            "Twinnings (one row per pair, either order)",
            Twinning.objects.published,
            (
                Col("id", "pk", "integer", "Stable identifier.", required=True),
                Col("city_a", "city_a__slug", required=True),
                Col("city_b", "city_b__slug", required=True),
                Col("kind", "kind"),
                year("start_year"),
                day("start_on"),
                Col("start_precision", "start_precision"),
                Col("status", "status", description="active, suspended, terminated."),
                year("status_year"),
                day("status_on"),
                Col("status_reason", "status_reason"),
                Col("status_act", "status_act"),
                Col("notes", "notes"),
            ),
            ("id",),
            (("city_a", "cities", "slug"), ("city_b", "cities", "slug")),
        ),
        Table(
            "activities",
            "Activities: projects, offices, missions, events, campaigns, summits",
            Activity.objects.published,
            (
                slug(),
                Col("title", "title", required=True),
                Col("kind", "kind"),
                Col("lead_city", public_link("lead_city"), description="City slug."),
                Col("other_partners", "other_partners", description="One a line."),
                year("start_year"),
                day("start_on"),
                year("end_year"),
                day("end_on"),
                Col("place", public_link("place"), description="City slug."),
                Col("budget", "budget", "number"),
                Col("budget_currency", "budget_currency", description="ISO 4217."),
                Col("summary", "summary"),
                Col("notes", "notes"),
            ),
            ("slug",),
            (("lead_city", "cities", "slug"), ("place", "cities", "slug")),
        ),
        Table(
            "conflicting_values",
            "Other values sources give for a field of a twinning, membership or party",
            ConflictingValue.objects.published,
            (
                Col("id", "pk", "integer", "Stable identifier.", required=True),
                Col("twinning", "twinning_id", "integer", "The twinning, if it is one's."),
                Col("membership", "membership_id", "integer", "The membership, if one's."),
                Col("party", "party_id", "integer", "The agreement party, if one's."),
                Col("field", "field", description="start, status or kind.", required=True),
                Col("value", "value", description="A start as YYYY, YYYY-MM or YYYY-MM-DD."),
                Col("notes", "notes"),
            ),
            ("id",),
            (
                ("twinning", "twinnings", "id"),
                ("membership", "memberships", "id"),
                ("party", "agreement_parties", "id"),
            ),
        ),
    ]
    themes = ("themes", "themes", "slug", "theme")
    sources = ("sources", "sources", "key", "source")
    partners = ("partner_cities", "cities", "slug", "city")
    city_sources = (None, "sources", "key", "source")  # declared on Source
    relations = [
        ("network_themes", Network, "network", "slug", themes),
        ("agreement_themes", Agreement, "agreement", "slug", themes),
        ("twinning_themes", Twinning, "twinning", "pk", themes),
        ("activity_themes", Activity, "activity", "slug", themes),
        ("activity_partners", Activity, "activity", "slug", partners),
        ("city_sources", City, "city", "slug", city_sources),
        ("network_sources", Network, "network", "slug", sources),
        ("membership_sources", Membership, "membership", "pk", sources),
        ("agreement_sources", Agreement, "agreement", "slug", sources),
        ("agreement_party_sources", AgreementParty, "agreement_party", "pk", sources),
        ("twinning_sources", Twinning, "twinning", "pk", sources),
        ("activity_sources", Activity, "activity", "slug", sources),
        ("conflicting_value_sources", ConflictingValue, "conflicting_value", "pk", sources),
    ]
    for name, model, owner, owner_key, (attr, target_table, target_key, target) in relations:
        title = f"{target_table.capitalize()} of {model._meta.verbose_name_plural}"
        if attr == "partner_cities":
            title = "Partner cities of activities"
        result.append(
            relation(name, title, model, owner, owner_key, attr, target_table, target_key, target)
        )
    return result


def relation(name, title, model, owner, owner_key, attr, target_table, target_key, target):
    """A many-to-many link between published records, as a two-column table."""
    # City.sources is declared on Source.
    through = Source.cities.through if attr is None else getattr(model, attr).through
    owner_field = next(
        f.name
        for f in through._meta.get_fields()
        if f.concrete and f.is_relation and f.related_model is model
    )
    target_field = next(
        f.name
        for f in through._meta.get_fields()
        if f.concrete and f.is_relation and f.name != owner_field and f.related_model is not through
    )
    owner_path = f"{owner_field}__{owner_key}"
    target_path = f"{target_field}__{target_key}"

    def rows():
        queryset = through.objects.filter(
            **{f"{owner_field}__in": model.objects.published().values("pk")}
        )
        if target_table == "cities":
            queryset = queryset.filter(**{f"{target_field}__review_state": PUBLISHED})
        return queryset.order_by(owner_path, target_path)

    owner_type = "integer" if owner_key == "pk" else "string"
    return Table(
        name,
        title,
        rows,
        (
            Col(owner, owner_path, owner_type, required=True),
            Col(target, target_path, required=True),
        ),
        (owner, target),
        (
            (owner, owner_table(model), "id" if owner_key == "pk" else owner_key),
            (target, target_table, target_key),
        ),
    )


def _cell(value):
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class _HashingWriter:
    """A text file that hashes and counts what it writes."""

    def __init__(self, path):
        self.file = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, text):
        data = text.encode("utf-8")
        self.sha256.update(data)
        self.bytes += len(data)
        return self.file.write(text)

    def close(self):
        self.file.close()


def write_table(table, directory):
    """Write `table` as CSV; returns its resource descriptor for datapackage.json."""
    path = f"{table.name}.csv"
    out = _HashingWriter(Path(directory) / path)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([col.name for col in table.columns])
    queryset = table.queryset().order_by(*_order(table)) if _order(table) else table.queryset()
    annotations = {
        f"_c{i}": c.path for i, c in enumerate(table.columns) if not isinstance(c.path, str)
    }
    if annotations:
        queryset = queryset.annotate(**annotations)
    names = [
        col.path if isinstance(col.path, str) else f"_c{i}" for i, col in enumerate(table.columns)
    ]
    count = 0
    for row in queryset.values_list(*names).iterator(chunk_size=CHUNK_SIZE):
        writer.writerow([_cell(value) for value in row])
        count += 1
    out.close()
    fields = []
    for col in table.columns:
        field = {"name": col.name, "type": col.type}
        if col.description:
            field["description"] = col.description
        if col.required or col.name in table.primary_key:
            field["constraints"] = {"required": True}
        if col.type == "boolean":
            field["trueValues"], field["falseValues"] = ["true"], ["false"]
        fields.append(field)
    schema = {"fields": fields, "missingValues": [""], "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [column], "reference": {"resource": resource, "fields": [key]}}
            for column, resource, key in table.foreign_keys
        ]
    return {
        "name": table.name,
        "title": table.title,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\n"},
        "hash": f"sha256:{out.sha256.hexdigest()}",
        "bytes": out.bytes,
        "rows": count,
        "schema": schema,
    }


def _order(table):
    """Rows in primary-key order, so two releases of the same data are the same files."""
    keys = []
    for name in table.primary_key:
        col = next(c for c in table.columns if c.name == name)
        keys.append(col.path)
    return keys if all(isinstance(k, str) for k in keys) else []


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(directory, version=None, *, zip_name=True):
    """Write the package into `directory` (created if needed); returns its descriptor."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    version = version or now.date().isoformat()
    resources = [write_table(table, directory) for table in tables()]
    descriptor = {
        "profile": "tabular-data-package",
        "name": "citydiplo",
        "title": "CityDiplo: a catalogue of city diplomacy",
        "description": (
            "The published records of CityDiplo: cities and places, city networks and "
            "their memberships, agreements and their parties, twinnings, activities, "
            "themes and the sources each record cites. " + ATTRIBUTION
        ),
        "version": version,
        "created": now.isoformat(timespec="seconds"),
        "licenses": [LICENCE],
        "sources": SOURCES,
        "contributors": [{"title": "CityDiplo editors", "role": "author"}],
        "keywords": ["city diplomacy", "twinning", "sister cities", "city networks"],
        "resources": resources,
    }
    (directory / "datapackage.json").write_text(
        json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    citation = Path(settings.BASE_DIR) / "CITATION.cff"
    if citation.exists():
        shutil.copyfile(citation, directory / "CITATION.cff")
    names = sorted(p.name for p in directory.iterdir() if p.is_file() and not _is_output(p))
    sums = "".join(f"{file_sha256(directory / name)}  {name}\n" for name in names)
    (directory / "SHA256SUMS").write_text(sums, encoding="utf-8")
    if zip_name:
        archive = directory / f"citydiplo-{version}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name in [*names, "SHA256SUMS"]:
                bundle.write(directory / name, f"citydiplo-{version}/{name}")
        (directory / f"{archive.name}.sha256").write_text(
            f"{file_sha256(archive)}  {archive.name}\n", encoding="utf-8"
        )
    return descriptor


def _is_output(path):
    return path.name == "SHA256SUMS" or path.name.startswith("citydiplo-")


# The /data/ page's view of the releases ---------------------------------------------


@dataclass
class Release:
    version: str
    directory: Path
    descriptor: dict
    archive: str
    archive_sha256: str
    checksums: list  # (file name, sha256)

    @property
    def files(self):
        return dict((name, digest) for name, digest in self.checksums) | {
            self.archive: self.archive_sha256,
            "SHA256SUMS": "",
        }


def release_root():
    return Path(settings.RELEASE_DIR)


def read_release(directory):
    directory = Path(directory)
    try:
        descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
        sums = (directory / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
        version = descriptor["version"]
        archive = f"citydiplo-{version}.zip"
        archive_sha256 = (directory / f"{archive}.sha256").read_text().split()[0]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    checksums = [tuple(reversed(line.split("  ", 1))) for line in sums if "  " in line]
    return Release(version, directory, descriptor, archive, archive_sha256, checksums)


def latest_release():
    """The newest complete release under RELEASE_DIR (one folder per version), or None."""
    root = release_root()
    if not root.is_dir():
        return None
    for directory in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
        if directory.is_dir() and VERSION_PATTERN.fullmatch(directory.name):
            release = read_release(directory)
            if release is not None:
                return release
    return None

"""Import twin-town pairs from a CSV of free-text names (the Wikipedia lists).

`import_twinnings` reads the file, resolves countries (cities.countries) and places
(cities.gazetteer, GeoNames offline), reuses catalogue cities, creates the missing
ones and the twinnings in batches, and reports what it could not import. Everything is
resolved in memory first, against maps of the database read once, so the writing is a
handful of bulk inserts; a dry run stops before it.
"""

import csv
import io
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from cities.countries import resolve_country
from cities.gazetteer import fold, locate, parse_place_name, us_states
from cities.models import City, CityName, NameSource, PlaceKind

from .history import copy_to_history
from .models import Source, SourceKind, Twinning

COLUMNS = ("city1", "country1", "city2", "country2")

WIKIPEDIA_SOURCE = {
    "key": "wikipedia-twin-towns-lists",
    "title": "Lists of twin towns and sister cities (English Wikipedia)",
    "url": "https://en.wikipedia.org/wiki/Lists_of_twin_towns_and_sister_cities",
    "publisher": "Wikipedia contributors, compiled by Hekman/twincities",
    "kind": SourceKind.DATASET,
}

REPORT_COLUMNS = ["line", "city1", "country1", "city2", "country2", "outcome", "reason"]
# A GeoNames place this populous is a city, a smaller one a town.
CITY_POPULATION = 100_000


class BadFile(Exception):
    """The file cannot be imported at all; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    city1: str
    country1: str
    city2: str
    country2: str


def read_rows(path, columns=COLUMNS):
    """The rows of a UTF-8 CSV file with the four named columns, or BadFile."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadFile(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save it as UTF-8 and try again."
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in columns if column not in header]
    if missing:
        raise BadFile(
            f"{path} lacks the column(s) {', '.join(missing)} (its header: "
            f"{', '.join(header) or 'empty'}). Name the columns with --city1-column, "
            "--country1-column, --city2-column and --country2-column."
        )
    rows = []
    for values in reader:
        cells = [(values.get(column) or "").strip() for column in columns]
        if any(cells):
            rows.append(Row(reader.line_num, *cells))
    if not rows:
        raise BadFile(f"{path} has a header but no rows: nothing to import.")
    return rows


@dataclass
class Place:
    """One place of the file, as resolved: several spellings may share one."""

    key: tuple
    name: str
    country: str
    kind: str
    location: object = None  # cities.gazetteer.Location
    subdivision: str = ""
    spellings: set = field(default_factory=set)
    first_line: int = 0
    city_id: int = None

    @property
    def located(self):
        return self.location is not None


@dataclass
class Outcome:
    """What an import did (or, in a dry run, would do)."""

    rows_read: int = 0
    distinct_pairs: int = 0
    pairs_created: int = 0
    already_present: int = 0
    source_added: int = 0
    pairs_both_located: int = 0
    pairs_both_located_exactly: int = 0
    cities_reused: int = 0
    cities_created: int = 0
    places_unlocated: int = 0
    places_approximate: int = 0
    rejected: Counter = field(default_factory=Counter)
    report: list = field(default_factory=list)
    unknown_countries: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def pairs_imported(self):
        return self.pairs_created + self.already_present

    @property
    def rows_rejected(self):
        return sum(self.rejected.values())

    @property
    def percent_imported(self):
        return 100 * self.pairs_imported / self.distinct_pairs if self.distinct_pairs else 0.0

    @property
    def percent_located(self):
        return 100 * self.pairs_both_located / self.pairs_imported if self.pairs_imported else 0.0

    @property
    def percent_located_exactly(self):
        if not self.pairs_imported:
            return 0.0
        return 100 * self.pairs_both_located_exactly / self.pairs_imported


def unique_slug(name, country, subdivision, taken):
    """City.unique_slug against an in-memory set of taken slugs (which it extends)."""
    candidates = [slugify(f"{name} {country}")]
    if subdivision:
        candidates.append(slugify(f"{name} {subdivision} {country}"))
    slug = next((s for s in candidates if s and s not in taken), None)
    if slug is None:
        base, number = (candidates[-1] or "place")[:200], 2
        while f"{base}-{number}" in taken:
            number += 1
        slug = f"{base}-{number}"
    taken.add(slug)
    return slug


class TwinningImport:
    """Resolve rows to places and pairs, then (unless a dry run) write them."""

    def __init__(self, gazetteer, *, source=WIKIPEDIA_SOURCE, batch_size=2000, progress=None):
        self.gazetteer = gazetteer
        self.source_fields = source
        self.batch_size = batch_size
        self.progress = progress or (lambda message: None)
        self.outcome = Outcome()
        self._places = {}  # (name, country text) -> Place or None (country unknown)
        self._by_key = {}  # place key -> Place

    # Resolving ----------------------------------------------------------------------

    def place(self, name, country_text, line):
        cache_key = (name, country_text)
        if cache_key in self._places:
            place = self._places[cache_key]
        else:
            place = self._resolve(name, country_text)
            self._places[cache_key] = place
        if place is not None:
            place.spellings.add(" ".join(name.split()))
            place.first_line = place.first_line or line
        return place

    def _resolve(self, name, country_text):
        countries = resolve_country(country_text)
        if not countries and not country_text.strip() and "," in name:
            # "Varna, Bulgaria" with an empty country cell.
            name, _, country_text = name.rpartition(",")
            countries = resolve_country(country_text)
        if not countries and not country_text.strip():
            # A territory standing alone, such as "Falkland Islands".
            countries = resolve_country(name)
        if not countries:
            return None
        parsed = parse_place_name(name)
        location = locate(self.gazetteer, parsed, countries)
        if location and not location.approximate:
            gn = location.place
            key = ("geonames", gn.geonames_id)
            subdivision = us_states().get(gn.admin1, "") if gn.country == "US" else ""
            kind = parsed.kind or (
                PlaceKind.CITY if gn.population >= CITY_POPULATION else PlaceKind.TOWN
            )
            place = Place(key, gn.name, gn.country, kind, location, subdivision)
        else:
            key = ("name", countries[0], fold(parsed.name), fold(parsed.parent))
            kind = parsed.kind or (PlaceKind.DISTRICT if location else PlaceKind.MUNICIPALITY)
            place = Place(key, parsed.name, countries[0], kind, location, parsed.parent)
        return self._by_key.setdefault(place.key, place)

    def _fold_districts(self):
        """'Spandau' without its city joins 'Spandau (Berlin)' when that is the only one."""
        parented = defaultdict(list)
        for key in self._by_key:
            if key[0] == "name" and key[3]:
                parented[key[:3]].append(key)
        merged = {}
        for key, place in self._by_key.items():
            if key[0] == "name" and not key[3] and len(parented[key[:3]]) == 1:
                target = self._by_key[parented[key[:3]][0]]
                target.spellings |= place.spellings
                merged[id(place)] = target
        for cache_key, place in self._places.items():
            if place is not None and id(place) in merged:
                self._places[cache_key] = merged[id(place)]
        for place in list(self._by_key.values()):
            if id(place) in merged:
                del self._by_key[place.key]

    def resolve(self, rows):
        """Pairs of Places by pair key, with the first row that gave each."""
        outcome = self.outcome
        outcome.rows_read = len(rows)
        resolved = []
        for number, row in enumerate(rows, 1):
            a = self.place(row.city1, row.country1, row.line)
            b = self.place(row.city2, row.country2, row.line)
            resolved.append((row, a, b))
            if number % 5000 == 0:
                self.progress(f"Resolving places: {number:,}/{len(rows):,} rows")
        self._fold_districts()
        pairs = {}
        rejected_pairs = set()
        for row, _, _ in resolved:
            a = self._places[(row.city1, row.country1)]
            b = self._places[(row.city2, row.country2)]
            if a is None or b is None:
                texts = [t for t, p in ((row.country1, a), (row.country2, b)) if p is None]
                for text in texts:
                    outcome.unknown_countries[text] += 1
                reason = "; ".join(f"country not recognised: {t!r}" for t in texts)
                self._reject(row, "unknown country", reason, rejected_pairs)
            elif a is b:
                self._reject(
                    row,
                    "place paired with itself",
                    f"both names are one place: {_describe(a)}",
                    rejected_pairs,
                )
            else:
                pairs.setdefault(frozenset((a.key, b.key)), (row, a, b))
        outcome.distinct_pairs = len(pairs) + len(rejected_pairs)
        return pairs

    def _reject(self, row, category, reason, rejected_pairs):
        self.outcome.rejected[category] += 1
        one, other = (fold(row.city1), fold(row.country1)), (fold(row.city2), fold(row.country2))
        rejected_pairs.add(frozenset((one, other)))
        self.outcome.report.append(_report_row(row, "rejected", reason))

    # Matching the catalogue ----------------------------------------------------------

    def match_catalogue(self, places):
        """Set city_id on places already in the catalogue; return the slugs taken."""
        by_geonames, by_name, slugs = {}, defaultdict(list), set()
        # The names people gave (GeoNames' exonyms would pair namesakes too readily).
        alternates = defaultdict(list)
        for city_id, spelling in (
            CityName.objects.exclude(source=NameSource.GEONAMES)
            .values_list("city_id", "name")
            .iterator(chunk_size=5000)
        ):
            alternates[city_id].append(spelling)
        rows = City.objects.values_list(
            "pk", "name", "country", "subdivision", "geonames_id", "slug"
        )
        for pk, name, country, subdivision, geonames_id, slug in rows.iterator(chunk_size=5000):
            slugs.add(slug)
            if geonames_id:
                by_geonames[geonames_id] = pk
            for spelling in {name, *alternates.get(pk, ())}:
                if spelling.strip():
                    by_name[(country, fold(spelling))].append((pk, fold(subdivision), geonames_id))
        for place in places:
            if place.key[0] == "geonames":
                place.city_id = by_geonames.get(place.key[1])
                if place.city_id is None:
                    # A curated city of that name not yet tied to GeoNames.
                    names = {fold(place.name), *(fold(s) for s in place.spellings)}
                    matches = {
                        pk
                        for n in names
                        for pk, _, gid in by_name.get((place.country, n), ())
                        if gid is None
                    }
                    place.city_id = matches.pop() if len(matches) == 1 else None
            else:
                matches = by_name.get((place.country, place.key[2]), ())
                same_parent = [pk for pk, sub, _ in matches if sub == place.key[3]]
                if len(same_parent) == 1:
                    place.city_id = same_parent[0]
                elif len({pk for pk, _, _ in matches}) == 1:
                    place.city_id = matches[0][0]
            if place.city_id is not None:
                self.outcome.cities_reused += 1
        return slugs

    # Running ------------------------------------------------------------------------

    def run(self, rows, *, dry_run=False):
        started = time.monotonic()
        outcome = self.outcome
        pairs = self.resolve(rows)
        places = list(self._by_key.values())
        used = {key for pair in pairs for key in pair}
        places = [p for p in places if p.key in used]
        slugs = self.match_catalogue(places)
        new_places = [p for p in places if p.city_id is None]
        outcome.cities_created = len(new_places)
        for place in places:
            if not place.located:
                outcome.places_unlocated += 1
                outcome.report.append(
                    [
                        place.first_line,
                        *sorted(place.spellings)[:1],
                        place.country,
                        "",
                        "",
                        "imported, place not located",
                        f"{_describe(place)} is not in GeoNames (cities500): "
                        "created without coordinates",
                    ]
                )
            elif place.location.approximate:
                outcome.places_approximate += 1
        for _row, a, b in pairs.values():
            if a.located and b.located:
                outcome.pairs_both_located += 1
                if not a.location.approximate and not b.location.approximate:
                    outcome.pairs_both_located_exactly += 1

        existing = {}
        source = Source.objects.filter(key=self.source_fields["key"]).first()
        cited = set()
        for pk, a_id, b_id in Twinning.objects.values_list("pk", "city_a_id", "city_b_id"):
            existing[frozenset((a_id, b_id))] = pk
        if source is not None:
            cited = set(source.twinnings.values_list("pk", flat=True))

        planned = []
        to_cite = []
        for row, a, b in pairs.values():
            if a.city_id is not None and a.city_id == b.city_id:
                self._reject(
                    row,
                    "place paired with itself",
                    f"both names are one catalogue city (id {a.city_id})",
                    set(),
                )
                continue
            twinning_id = None
            if a.city_id is not None and b.city_id is not None:
                twinning_id = existing.get(frozenset((a.city_id, b.city_id)))
            if twinning_id is not None:
                outcome.already_present += 1
                if twinning_id not in cited:
                    to_cite.append(twinning_id)
                    cited.add(twinning_id)
            else:
                planned.append((a, b))
        outcome.source_added = len(to_cite)
        outcome.pairs_created = len(planned)
        outcome.report.sort(key=lambda r: (r[0], r[5]))
        if not dry_run:
            self.write(new_places, slugs, planned, to_cite, source)
        outcome.seconds = time.monotonic() - started
        return outcome

    # Writing ------------------------------------------------------------------------

    def write(self, new_places, slugs, planned, to_cite, source):
        if source is None:
            source = Source.objects.create(**self.source_fields)
        for start in range(0, len(new_places), self.batch_size):
            batch = new_places[start : start + self.batch_size]
            cities = [self._new_city(place, slugs) for place in batch]
            with transaction.atomic():
                City.objects.bulk_create(cities)
                self._add_names(batch, cities)
                Source.cities.through.objects.bulk_create(
                    [Source.cities.through(source_id=source.pk, city_id=c.pk) for c in cities],
                    ignore_conflicts=True,
                )
            for place, city in zip(batch, cities, strict=True):
                place.city_id = city.pk
            self.progress(f"Creating cities: {start + len(batch):,}/{len(new_places):,}")
        through = Twinning.sources.through
        for start in range(0, len(planned), self.batch_size):
            batch = planned[start : start + self.batch_size]
            twinnings = [Twinning(city_a_id=a.city_id, city_b_id=b.city_id) for a, b in batch]
            with transaction.atomic():
                Twinning.objects.bulk_create(twinnings)
                through.objects.bulk_create(
                    [through(twinning_id=t.pk, source_id=source.pk) for t in twinnings]
                )
                # bulk_create skips save(), which copies each side's country.
                Twinning.objects.filter(pk__in=[t.pk for t in twinnings]).refresh_sides()
                copy_to_history(
                    Twinning,
                    [t.pk for t in twinnings],
                    f"Imported from {self.source_fields['key']}",
                )
            self.progress(f"Creating twinnings: {start + len(batch):,}/{len(planned):,}")
        with transaction.atomic():
            through.objects.bulk_create(
                [through(twinning_id=pk, source_id=source.pk) for pk in to_cite],
                batch_size=self.batch_size,
                ignore_conflicts=True,
            )

    @staticmethod
    def _add_names(places, cities):
        """Each new city's names: its main name, the spellings of the list, and the
        other names GeoNames gives the place it was found as."""
        pairs = list(zip(places, cities, strict=True))
        CityName.objects.add([(c.pk, c.name) for _, c in pairs], NameSource.MAIN)
        CityName.objects.add(
            [(c.pk, s) for p, c in pairs for s in sorted(p.spellings) if s != c.name],
            NameSource.IMPORT,
        )
        CityName.objects.add(
            [
                (c.pk, n)
                for p, c in pairs
                if c.geonames_id
                for n in p.location.place.alternate_names
            ],
            NameSource.GEONAMES,
        )

    def _new_city(self, place, slugs):
        city = City(
            name=place.name[:200],
            country=place.country,
            subdivision=place.subdivision[:200],
            kind=place.kind,
        )
        location = place.location
        if location is not None:
            gn = location.place
            city.latitude = round(gn.latitude, 5)
            city.longitude = round(gn.longitude, 5)
            if location.approximate:
                city.notes = (
                    f"Not in GeoNames (cities500): placed at {gn.name} (GeoNames "
                    f"{gn.geonames_id}), the place it belongs to or is named after."
                )
            else:
                city.geonames_id = gn.geonames_id
                city.population = gn.population or None
        else:
            city.notes = "Not found in GeoNames (cities500): no coordinates."
        city.slug = unique_slug(place.name, place.country, place.subdivision, slugs)
        return city


def _describe(place):
    where = f", {place.subdivision}" if place.subdivision else ""
    return f"{place.name} ({place.country}{where})"


def _report_row(row, outcome, reason):
    return [row.line, row.city1, row.country1, row.city2, row.country2, outcome, reason]


def write_report(outcome, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        writer.writerows(outcome.report)
    return path

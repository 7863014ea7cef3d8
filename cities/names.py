"""The one normalisation of place names, for stored names and typed queries alike.

Two spellings a reader takes for one name normalise to the same text
(`normalise("Sankt-Petersburg") == normalise("St. Petersburg") == "stpetersburg"`):

- case and accents are ignored ("KRAKÓW", "krakow"), in every script: Cyrillic, Greek,
  Arabic letters keep their own letters, without their marks;
- German transliterations equal their umlauts: "ue", "oe", "ae" are "u", "o", "a"
  (so München, Muenchen and Munchen agree), and "ß" is "ss";
- "St", "St.", "Saint", "Sankt" and "San" before another word are one word;
- hyphens, apostrophes, dots and spaces do not count ("Saint-Denis", "Saint Denis",
  "L'Aquila", "LAquila").

The result is what the database compares: it is stored beside every name
(`CityName.folded`), so SQLite and PostgreSQL compare the same strings and agree.
"""

import functools
import re
import unicodedata

MAX_LENGTH = 200

# Letters Unicode does not decompose into a base letter and a mark.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "æ": "a",
        "œ": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
        # Apostrophes join what they separate ("L'Aquila" is "laquila").
        "'": None,
        "’": None,
        "‘": None,
        "`": None,
        "ʻ": None,
        "ʼ": None,
        "´": None,
    }
)
# Words that abbreviate or translate one another in place names.
SAINT_WORDS = frozenset({"st", "saint", "sankt", "san", "ste", "sainte"})
_SAINT = "st"
_NOT_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")
# German umlauts spelt without the umlaut: ü = ue = u, after accents are gone.
_DIGRAPHS = (("ue", "u"), ("oe", "o"), ("ae", "a"))


def words(text):
    """The normalised words of `text`, before they are joined ("st", "petersburg")."""
    text = unicodedata.normalize("NFKD", (text or "").casefold().translate(_LETTERS))
    if text.isascii():  # most names and queries: no marks to drop
        split = _NOT_ALNUM_ASCII.sub(" ", text).split()
    else:
        kept = []
        for char in text:
            if char.isalnum():
                if not unicodedata.combining(char):
                    kept.append(char)
            elif not unicodedata.combining(char):
                kept.append(" ")
        split = "".join(kept).split()
    folded = []
    for position, word in enumerate(split, 1):
        # Not the last word: a query typed so far as "San" still finds Santiago.
        if word in SAINT_WORDS and position < len(split):
            folded.append(_SAINT)
            continue
        for spelling, sound in _DIGRAPHS:
            word = word.replace(spelling, sound)
        folded.append(word)
    return folded


@functools.lru_cache(maxsize=10_000)
def normalise(text):
    """The form of a name or query that matching compares: see the module's docstring.

    Empty when `text` has no letter or digit. Cached: the site search compares the
    names of every record of the smaller kinds on each search, and normalising them
    afresh took a third of the page (bench/search.py).
    """
    return "".join(words(text))[:MAX_LENGTH]


def prefix_end(prefix):
    """The smallest string greater than every string starting with `prefix`, for a
    range scan of an index in binary order (`prefix <= x < prefix_end(prefix)`)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def trigrams(folded):
    """The three-letter pieces of a normalised name, as pg_trgm pads them."""
    padded = f"  {folded} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(one, other):
    """pg_trgm's similarity of two normalised names: shared trigrams over all."""
    a, b = trigrams(one), trigrams(other)
    return len(a & b) / len(a | b) if a and b else 0.0

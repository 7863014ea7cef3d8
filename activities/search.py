"""Best match first, for every kind of record: the rule cities.CityQuerySet.search
applies to place names, applied to networks, agreements, activities and themes.

A record whose name (title, acronym...) equals the query comes first, then one whose
name starts with it, then one whose name contains it (from three letters on), all
compared after `cities.names.normalise` (accents, case, ue/ü, St/Saint, hyphens); then
records with every word of the query somewhere in their texts. Within each group the
model's own order holds, so SQLite and PostgreSQL agree.

These tables hold hundreds of rows, not tens of thousands: their names are read and
compared in Python, and the texts with `icontains`, which on such tables costs less
than an index would save.
"""

from django.db.models import Case, Value, When

from cities.models import CONTAINS_MIN_LENGTH, WORDS_MATCH
from cities.names import normalise
from citydiplo.records import words_condition

#: The `match` of a record found by the words of its texts, not by its name.
WORDS = WORDS_MATCH


def name_match(name, folded):
    """0, 1 or 2 when the normalised `name` equals, starts with or contains `folded`."""
    if name == folded:
        return 0
    if name.startswith(folded):
        return 1
    if len(folded) >= CONTAINS_MIN_LENGTH and folded in name:
        return 2
    return None


def ranked_search(queryset, q, names, texts=()):
    """`queryset` filtered to the records matching `q` and ordered best match first,
    each annotated with its `match` (0 to 3); a blank `q` filters nothing."""
    q = " ".join((q or "").split())
    if not q:
        return queryset
    folded = normalise(q)
    words = Case(When(words_condition(q, (*names, *texts)), then=True), default=False)
    found = {}
    rows = queryset.annotate(search_words=words).values_list("pk", "search_words", *names)
    for pk, has_words, *values in rows:
        matches = [name_match(normalise(value), folded) for value in values if value]
        matches = [match for match in matches if match is not None]
        if folded and matches:
            found[pk] = min(matches)
        elif has_words:
            found[pk] = WORDS
    if not found:
        return queryset.none()
    ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    match = Case(*(When(pk=pk, then=Value(rank)) for pk, rank in found.items()), default=WORDS)
    return queryset.filter(pk__in=list(found)).annotate(match=match).order_by("match", *ordering)

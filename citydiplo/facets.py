"""Facet counts for list pages: how many results each choice of a filter would give,
given the other filters.

One grouped query per facet, never one COUNT per choice. The generic pieces live here;
each FilterSet lists its facets in its class attribute `facets`, and
activities/facets.py adds the counting functions that need the catalogue's models.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Subquery,
)
from django.db.models.functions import Coalesce


@dataclass(frozen=True)
class Facet:
    """A filter parameter whose choices are shown with counts.

    `count` takes the queryset filtered by every other parameter and returns rows
    `(value, count)` or `(value, label, count)`; without a label the choice label of the
    filter's form field is used.
    """

    name: str
    count: object
    multiple: bool = False


@dataclass
class FacetChoice:
    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass
class FacetResult:
    name: str
    label: str
    choices: list = field(default_factory=list)

    @property
    def top(self):
        return self.choices[:8]

    @property
    def rest(self):
        return self.choices[8:]


# Caching ------------------------------------------------------------------------------

FACET_CACHE_SECONDS = 600


def cached_counts(facet, queryset, version, key=None):
    """`facet.count(queryset)`, cached under the catalogue version (citydiplo/versioning.py),
    which the database raises on every write.

    `queryset`: a QuerySet, or a function building it, called only if the counts are
    not cached (on a page served from the cache, building its facets' querysets costs
    more than finding their counts). `key`: what the queryset is built from, when the
    caller can say so exactly (`CatalogueListView.filters_key`); compiling the query's
    SQL for a key costs more than the rest of a facet. Without it, the SQL is the key.
    """
    return _cached(("counts", facet.name), key, queryset, version, lambda qs: list(facet.count(qs)))


def cached_count(queryset, version, key=None):
    """`queryset.count()`, cached likewise: a list's result count for its pagination."""
    return _cached(("count",), key, queryset, version, lambda qs: qs.count())


def _cached(what, key, queryset, version, compute):
    """`compute(queryset)` cached under (what, key, version); the SQL is the key when
    the caller gives none."""
    if key is None:
        queryset = _built(queryset)
        key = queryset.query.sql_with_params()
    digest = hashlib.sha256(repr((what, key, version)).encode()).hexdigest()
    value = cache.get("facet:" + digest)
    if value is None:
        value = compute(_built(queryset))
        cache.set("facet:" + digest, value, FACET_CACHE_SECONDS)
    return value


def _built(queryset):
    return queryset() if callable(queryset) else queryset


def key_value(value):
    """`value` (a cleaned filter value) as an exact part of a cache key: its repr names
    it, and a record is named by its model and primary key. TypeError for any other
    kind of value (a QuerySet...), whose repr might not tell two values apart."""
    if value is None or isinstance(value, str | int | float | Decimal | date):
        return value
    if isinstance(value, Model):
        return (value._meta.label, value.pk)
    if isinstance(value, list | tuple):
        return (type(value).__name__, *map(key_value, value))
    raise TypeError(f"No exact cache key for {type(value).__name__}")


# Counting functions ------------------------------------------------------------------


def grouped(path, *, distinct=False, label=None):
    """Count rows grouped by a column (or a path through relations).

    `distinct` when the path crosses a many-valued relation, so a record linked twice
    to one value counts once. `label`: a second column holding the display label.
    """

    def count(queryset):
        columns = {"value": F(path)}
        if label:
            columns["label"] = F(label)
        rows = (
            queryset.order_by()
            .values(**columns)
            .annotate(n=Count("pk", distinct=distinct))
            .filter(value__isnull=False)
        )
        if label:
            return [(row["value"], row["label"], row["n"]) for row in rows]
        return [(row["value"], row["n"]) for row in rows]

    return count


def through(link_queryset, owner, path, *, label=None):
    """Count owners grouped by a column of a link table (members, parties, themes).

    `link_queryset`: the link rows that count (published memberships of published
    cities...); `owner`: the link's foreign key to the listed model. Each owner counts
    once per value, whatever the number of links.
    """

    def count(queryset):
        columns = {"value": F(path)}
        if label:
            columns["label"] = F(label)
        rows = (
            link_queryset.filter(**{f"{owner}__in": queryset.order_by().values("pk")})
            .order_by()
            .values(**columns)
            .annotate(n=Count(owner, distinct=True))
            .filter(value__isnull=False)
        )
        if label:
            return [(row["value"], row["label"], row["n"]) for row in rows]
        return [(row["value"], row["n"]) for row in rows]

    return count


def yes_no(condition):
    """A boolean facet: how many rows match and how many do not, in one grouped query.

    `condition`: a callable returning a Q (fresh each time: expressions are not shared
    between queries).
    """

    def count(queryset):
        flag = ExpressionWrapper(condition(), output_field=BooleanField())
        rows = queryset.order_by().annotate(flag=flag).values("flag").annotate(n=Count("pk"))
        return [(bool(row["flag"]), row["n"]) for row in rows]

    return count


def count_subquery(queryset, outer_field, counted="pk", *, distinct=False):
    """An annotation: the number of rows of `queryset` whose `outer_field` is the outer row.

    `queryset` is already filtered (published...), not yet tied to the outer row;
    `counted` with `distinct` counts distinct values instead of rows.
    """
    return Coalesce(
        Subquery(
            queryset.filter(**{outer_field: OuterRef("pk")})
            .order_by()
            .values(outer_field)
            .annotate(n=Count(counted, distinct=distinct))
            .values("n")[:1]
        ),
        0,
    )

"""Facet counts for list pages: how many results each choice of a filter would give,
given the other filters.

One grouped query per facet, never one COUNT per choice. The generic pieces live here
(cities is the app every other app depends on); each FilterSet lists its facets in
`Meta`-like class attribute `facets`, and activities/facets.py adds the counting
functions that need the activities models.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.core.cache import cache
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce

from .records import CatalogueRecord, ReviewState
from .regions import Region, region_of


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


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    sizes: dict  # model label -> rows


def catalogue_version():
    return catalogue_fingerprint().digest


def catalogue_fingerprint():
    """A fingerprint of the catalogue: for every record table its rows, published rows
    and latest change, and the row count of every link table (sources, themes,
    partners, agreement parties...). One query.

    Admin saves stamp updated_at; publications, imports, deletions and new links change
    the counts; so cached facet counts never outlive the data they were counted on.
    """
    records = [m for m in apps.get_models() if issubclass(m, CatalogueRecord)]
    links = set()
    for model in records:
        for relation in model._meta.get_fields(include_hidden=True):
            if relation.many_to_many:
                through = relation.through if relation.auto_created else None
                links.add(through or relation.remote_field.through)
            elif (
                relation.one_to_many
                and not issubclass(relation.related_model, CatalogueRecord)
                and not hasattr(relation.related_model, "history_id")  # history tables
            ):
                links.add(relation.related_model)  # agreement parties

    def fingerprint(model):
        counted = (
            model._default_manager.order_by()
            .annotate(label=Value(model._meta.label))
            .values("label")
        )
        if issubclass(model, CatalogueRecord):
            return counted.annotate(
                n=Count("pk"),
                published=Count("pk", filter=Q(review_state=ReviewState.PUBLISHED)),
                latest=Cast(Max("updated_at"), CharField()),
            )
        return counted.annotate(
            n=Count("pk"), published=Value(0), latest=Cast(Max("pk"), CharField())
        )

    first, *others = sorted(records, key=lambda m: m._meta.label) + sorted(
        links, key=lambda m: m._meta.label
    )
    rows = list(fingerprint(first).union(*(fingerprint(m) for m in others), all=True))
    digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return Fingerprint(digest, {row["label"]: row["n"] for row in rows})


def cached_counts(facet, queryset, version):
    """`facet.count(queryset)`, cached under the query's SQL and the catalogue version."""
    if version is None:
        return facet.count(queryset)
    sql, params = queryset.query.sql_with_params()
    key = "facet:" + hashlib.sha256(repr((facet.name, sql, params, version)).encode()).hexdigest()
    rows = cache.get(key)
    if rows is None:
        rows = list(facet.count(queryset))
        cache.set(key, rows, FACET_CACHE_SECONDS)
    return rows


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


def regions_from(country_path):
    """Regions counted from a country column: one grouped query by country."""
    by_country = grouped(country_path)

    def count(queryset):
        totals = Counter()
        for code, n in by_country(queryset):
            region = region_of(code)
            if region:
                totals[region.value] += n
        return list(totals.items())

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


REGION_LABELS = dict(Region.choices)

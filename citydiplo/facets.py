"""Facet counts for list pages: how many results each choice of a filter would give,
given the other filters.

One query per facet (grouped by its values; a yes/no facet counts "yes" beside the
total), never one COUNT per choice. The generic pieces live here;
each FilterSet lists its facets in its class attribute `facets`, and
activities/facets.py adds the counting functions that need the catalogue's models.
"""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    F,
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
    #: A grouped query several facets read (activities.facets.twinning_groups): when
    #: set, `count` receives its rows instead of the queryset, and facets filtered
    #: alike share one run of it, so a list's facets cost one pass over its rows. Its
    #: rows end with the number of records in their group (`groups`), so that a pass
    #: under all the page's filters gives the result count as well.
    shared: object = None
    #: For a facet with `shared`: `selects(row, values)` says whether a row of the
    #: shared query matches any of the chosen `values` (as the facet's filter would),
    #: so the counts beside a repeatable facet's selection come from the same rows
    #: (CatalogueListView.added_counts), and the pass under this filter is read from
    #: the pass without it (CatalogueListView.narrowed_pass).
    selects: object = None


TOP = 8  # choices shown at once; the next ones up to SHOWN behind "more"
#: Datasette's default number of facet values too. The rest are typed in the filter
#: form; 100 cost Germany's twinnings 12 ms more of a 140 ms page, in links and
#: rendering, for the smallest countries (bench/README.md).
SHOWN = 30


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
    #: Choices left out (the smallest, beyond SHOWN): thousands of country pairs would
    #: cost more to link and render than the rest of the page.
    hidden: int = 0

    @property
    def top(self):
        return self.choices[:TOP]

    @property
    def rest(self):
        return self.choices[TOP:]


# Shared passes ------------------------------------------------------------------------


def groups(*columns):
    """A shared pass (Facet.shared): rows (*columns, count) in one grouped query."""

    def rows(queryset):
        return list(queryset.order_by().values_list(*columns).annotate(n=Count("pk")))

    return rows


def summed(index):
    """A facet over the rows of `groups`: counts summed by the column at `index`."""

    def count(rows):
        totals = Counter()
        for row in rows:
            totals[row[index]] += row[-1]
        return [(value, n) for value, n in totals.items() if value is not None]

    return count


def one_of(index):
    """Facet.selects for the rows of `groups`: the column at `index` is a chosen value."""

    def selects(row, values):
        return row[index] in values

    return selects


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
        # EXISTS, probing each link's owner by its key, rather than `owner IN (the
        # listed records)`: SQLite built the whole list first, 12,000 cities for
        # Europe's network facet (bench/README.md).
        listed = queryset.order_by().filter(pk=OuterRef(owner))
        rows = (
            link_queryset.filter(Exists(listed))
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
    """A boolean facet: how many rows match and how many do not, in one pass.

    `condition`: a callable returning a Q (fresh each time: expressions are not shared
    between queries). Counted as `COUNT(*) FILTER (WHERE condition)` beside the total,
    so the condition is tested once per row and, being a condition, stops at the first
    side of an OR that holds; grouped by its value it was computed twice per row, both
    sides each time (the has-twinnings facet of Europe's cities: bench/README.md).
    """

    def count(queryset):
        counts = queryset.order_by().aggregate(yes=Count("pk", filter=condition()), n=Count("pk"))
        pairs = [(True, counts["yes"]), (False, counts["n"] - counts["yes"])]
        return [(flag, n) for flag, n in pairs if n]

    return count


def count_subquery(queryset, outer_field, counted="*", *, distinct=False):
    """An annotation: the number of rows of `queryset` whose `outer_field` is the outer row.

    `queryset` is already filtered (published...), not yet tied to the outer row;
    `counted` with `distinct` counts distinct values instead of rows. Rows are counted
    as COUNT(*), which PostgreSQL reads from an index alone where one covers the filter
    (COUNT(id) would fetch every row).
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

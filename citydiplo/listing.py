"""The machinery every list page shares: filtering, sorting, paging, facets, active
filters and downloads, on top of django-filter's FilterView.

A list view names its model, FilterSet, columns and export columns; everything else is
here, so the five list pages behave alike. Odd input never raises: the page answers
with what it could use and says what it ignored.
"""

from dataclasses import dataclass

from django.db.models import Model
from django.forms import ModelChoiceField
from django.http import HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.utils.http import urlencode
from django_filters.views import FilterView

from . import exports
from .facets import SHOWN, FacetChoice, FacetResult

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
PAGE_SIZE_CHOICES = (10, 50, 100, 500)
STATE_PARAMS = ("page", "page_size", "format")


def as_param(value):
    """How a cleaned or grouped value is written in a URL."""
    if type(value) is str:  # most values, thousands to a page
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "-".join(value)
    slug = getattr(value, "slug", None)
    if slug is not None:
        return slug
    return str(value)


def printable(text):
    """`text` without control characters (NUL, escapes...), which no page should echo."""
    return "".join(char for char in text if char.isprintable())


class Query:
    """The page's query string, and links that change one thing in it.

    Every link resets `page` (a new filter starts at the first page) unless it sets it.
    Blank parameters are dropped, so shared URLs stay short.
    """

    def __init__(self, data):
        items = ((printable(k), printable(v)) for k, values in data.lists() for v in values)
        self.items = [(k, v) for k, v in items if v.strip()]
        #: The cleaned parameters, for the FilterSet, so its form never echoes them raw.
        self.data = QueryDict(mutable=True)
        for k, v in self.items:
            self.data.appendlist(k, v)

    def url(self, items):
        return "?" + urlencode(items) if items else "?"

    def _without(self, name, value=None):
        return [
            (k, v)
            for k, v in self.items
            if k != "page" and not (k == name and (value is None or v == value))
        ]

    def without(self, name, value=None):
        return self.url(self._without(name, value))

    def setting(self, name, value):
        return self.url([*self._without(name), (name, value)])

    def adding(self, name, value):
        return self.url([*self._without(name, value), (name, value)])

    def page(self, number):
        return self.url([*((k, v) for k, v in self.items if k != "page"), ("page", number)])

    def filters(self, names):
        """{name: value or [values]} of the given parameters, for the JSON meta."""
        query = {}
        for name, value in self.items:
            if name in names:
                query.setdefault(name, []).append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in query.items()}


@dataclass
class ActiveFilter:
    label: str
    value: str
    remove_url: str


@dataclass
class HeaderCell:
    label: str
    url: str = ""
    sort: str = ""  # "ascending", "descending" or ""
    numeric: bool = False


class CatalogueListView(FilterView):
    """A filterable, sortable, paged and downloadable list of published records.

    Subclasses set `model`, `filterset_class`, `columns` [(label, ordering parameter or
    None, numeric)], `export_columns`, `export_name` and the texts.
    """

    strict = False
    columns = ()
    export_columns = ()
    export_name = ""
    heading = ""
    intro = ""
    search_placeholder = ""
    formats = exports.FORMATS
    facet_total = None  # the result count, when a facet's shared pass counted it (facets)

    @property
    def has_map(self):
        """A list with places offers a map, drawn from its own `?format=geojson`."""
        return "geojson" in self.formats

    def get_queryset(self):
        return self.model.objects.published().for_list()

    def get_filterset_kwargs(self, filterset_class):
        # Always bound, even to an empty query, so the defaults go through the form.
        return {**super().get_filterset_kwargs(filterset_class), "data": self.query.data}

    def get_filterset(self, filterset_class):
        # Built once a request: `get` reads it before FilterView's `get` asks again.
        if getattr(self, "filterset", None) is None:
            self.filterset = super().get_filterset(filterset_class)
        return self.filterset

    def slug_redirect(self):
        """A place typed by name (`?city=Lyon`) is found: go to the same page with its
        slug (`?city=lyon-fr`), the stable address to share; None otherwise."""
        form = self.filterset.form
        form.is_valid()  # cleans every field; a valid place counts even beside an error
        items, moved = [], False
        for name, value in self.query.items:
            field = form.fields.get(name)
            if getattr(field, "typed_name", False) and form.cleaned_data.get(name) is not None:
                value, moved = form.cleaned_data[name].slug, True
            items.append((name, value))
        return HttpResponseRedirect(self.request.path + self.query.url(items)) if moved else None

    def form_fields(self, left_out):
        """The filter form's fields but `left_out` (the facets). A field offering
        `candidates` [(label, value)] (a place typed ambiguously, cities.filters) gets
        `candidate_links` [(label, link choosing it)]."""
        form = self.filterset.form
        fields = []
        for name, field in form.fields.items():
            if name in left_out:
                continue
            bound = form[name]
            bound.candidate_links = [
                (label, self.query.setting(name, slug))
                for label, slug in getattr(field, "candidates", ())
            ]
            fields.append(bound)
        return fields

    def get_facet_queryset(self):
        """Facets count over the published records, without the page's annotations."""
        return self.model.objects.published()

    # Request handling --------------------------------------------------------------

    def get(self, request, *args, **kwargs):
        self.notices = []
        self.query = Query(request.GET)
        fmt = request.GET.get("format", "").strip().lower()
        if fmt and fmt not in self.formats:
            return HttpResponseBadRequest(
                f"Unknown format {fmt[:20]!r}: use "
                + " or ".join(f"format={name}" for name in self.formats)
                + ".",
                content_type="text/plain; charset=utf-8",
            )
        self.filterset = self.get_filterset(self.get_filterset_class())
        if not fmt:
            return self.slug_redirect() or super().get(request, *args, **kwargs)
        if self.filterset.is_bound and not self.filterset.is_valid():
            lines = [f"{label}: {message}" for label, message in self.error_lines()]
            return HttpResponseBadRequest(
                "These filters are not valid, so nothing was exported:\n" + "\n".join(lines),
                content_type="text/plain; charset=utf-8",
            )
        return self.export(fmt, self.filterset.qs)

    def export(self, fmt, queryset):
        """The download of every filtered row in `fmt`, one of `self.formats`."""
        return exports.export_response(
            fmt,
            queryset,
            self.export_columns,
            name=self.export_name,
            query=self.query.filters(self.filterset.filters),
            request=self.request,
        )

    def error_lines(self):
        form = self.filterset.form
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else name
            for message in errors:
                yield label, message

    # Paging ------------------------------------------------------------------------

    def get_paginate_by(self, queryset):
        raw = self.request.GET.get("page_size", "").strip()
        if not raw:
            return PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            self.notices.append(f"page_size must be a whole number; showing {PAGE_SIZE} a page.")
            return PAGE_SIZE
        if size < 1:
            self.notices.append(f"page_size must be at least 1; showing {PAGE_SIZE} a page.")
            return PAGE_SIZE
        if size > MAX_PAGE_SIZE:
            self.notices.append(f"At most {MAX_PAGE_SIZE} rows a page; showing {MAX_PAGE_SIZE}.")
            return MAX_PAGE_SIZE
        return size

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        if self.facet_total is not None:
            paginator.count = self.facet_total  # no second pass over the same rows
        raw = self.request.GET.get("page", "").strip() or "1"
        try:
            number = int(raw)
        except ValueError:
            self.notices.append("The page number was not a whole number; showing page 1.")
            number = 1
        if number < 1:
            self.notices.append("Pages start at 1; showing page 1.")
            number = 1
        elif number > paginator.num_pages:
            self.notices.append(
                f"There is no page {number}: the results fill {paginator.num_pages} "
                f"page{'s' if paginator.num_pages != 1 else ''}; showing the last."
            )
            number = paginator.num_pages
        page = paginator.page(number)
        return paginator, page, page.object_list, paginator.num_pages > 1

    # What the template shows -------------------------------------------------------

    def get_context_data(self, **kwargs):
        # Facets first: their shared pass may count the results too (facets()), and the
        # paginator (in super()) then runs no COUNT of its own.
        facets = self.facets()
        context = super().get_context_data(**kwargs)
        paginator = context["paginator"]
        facet_names = {facet.name for facet in facets}
        form = self.filterset.form
        form.fields["q"].widget.input_type = "search"
        form.fields["q"].widget.attrs["placeholder"] = self.search_placeholder
        context.update(
            heading=self.heading,
            intro=self.intro,
            result_count=paginator.count,
            facets=facets,
            active_filters=self.active_filters(),
            filter_errors=list(self.error_lines()),
            notices=self.notices,
            header=self.header(),
            page_links=self.page_links(context["page_obj"]),
            page_size_links=[
                (size, self.query.setting("page_size", size), size == paginator.per_page)
                for size in PAGE_SIZE_CHOICES
            ],
            export_links=[
                (fmt.upper(), self.query.setting("format", fmt)) for fmt in exports.FORMATS
            ],
            clear_url=self.query.url([(k, v) for k, v in self.query.items if k == "page_size"]),
            form_fields=self.form_fields(facet_names),
            kept_state=[
                (k, v) for k, v in self.query.items if k in facet_names or k == "page_size"
            ],
        )
        return context

    def facets(self):
        """The facets beside the filters: each choice with the number of rows its link
        would show, given the other filters.

        A shared pass (Facet.shared) run for a facet the page is not filtered by has read
        the page's own rows, grouped: their counts add up to the result count, kept in
        `facet_total` for the paginator. On the twinnings list at ten times the imported
        twinnings, that COUNT took 80 to 920 ms on SQLite (bench/README.md).
        """
        filterset = self.filterset
        form = filterset.form
        form.is_valid()
        cleaned = form.cleaned_data
        applied = {name for name, value in cleaned.items() if value not in (None, "", [])}
        passes = {}  # shared grouped queries' rows, by the filters they ran under
        # Facets the page is filtered by first: their passes leave their own filter out,
        # so a narrower pass can often be read from one of them (narrowed_pass).
        for facet in sorted(filterset.facets, key=lambda facet: facet.name not in applied):
            if facet.shared:
                key = (facet.shared, frozenset(applied - {facet.name, "ordering"}))
                if key not in passes:
                    rows = self.narrowed_pass(key, passes)
                    if rows is None:
                        queryset = self.get_facet_queryset()
                        rows = facet.shared(filterset.filter_queryset_except(queryset, facet.name))
                    passes[key] = rows
        results = []
        for facet in filterset.facets:
            field = form.fields[facet.name]
            labels = (
                dict(getattr(field, "choices", ()))
                if not isinstance(field, ModelChoiceField)
                else {}
            )
            chosen = cleaned.get(facet.name)
            if chosen in (None, "", []):
                chosen = []
            elif not isinstance(chosen, list | tuple):
                chosen = [chosen]
            selected = {as_param(value) for value in chosen}
            queryset = rows = None
            if facet.shared:
                rows = passes[(facet.shared, frozenset(applied - {facet.name, "ordering"}))]
                if facet.name not in applied:
                    self.facet_total = sum(row[-1] for row in rows)
            else:
                queryset = filterset.filter_queryset_except(self.get_facet_queryset(), facet.name)
            added = self.added_counts(facet, queryset, chosen, rows)
            counted = []
            for row in facet.count(queryset if rows is None else rows):
                value = as_param(row[0])
                label = row[1] if len(row) == 3 else labels.get(value, value)
                count = row[-1]
                is_selected = value in selected
                if added is not None and not is_selected:
                    count = added[0] + added[1].get(value, 0)
                if count or is_selected:
                    counted.append((not is_selected, -count, str(label), value))
            counted.sort()
            choices = [
                FacetChoice(
                    value,
                    label,
                    -negative,
                    not unselected,
                    self.facet_url(facet, value, not unselected),
                )
                for unselected, negative, label, value in counted[:SHOWN]
            ]
            hidden = len(counted) - len(choices)
            results.append(FacetResult(facet.name, field.label, choices, hidden))
        return results

    def narrowed_pass(self, key, passes):
        """The rows of the shared pass `key` (shared query, filters applied), read from
        a pass already run without one of those filters, when that filter is a
        facet's that can tell its rows apart (Facet.selects); None otherwise.

        Germany's twinnings: the country facet's pass over all twinnings gives the
        other facets' pass over Germany's, without a second grouped query (16 ms of
        a 150 ms page on SQLite, bench/README.md).
        """
        shared, applied = key
        cleaned = self.filterset.form.cleaned_data
        for facet in self.filterset.facets:
            if facet.name not in applied or facet.shared is not shared or not facet.selects:
                continue
            wider = passes.get((shared, applied - {facet.name}))
            if wider is not None:
                chosen = cleaned[facet.name]
                values = {
                    as_param(value)
                    for value in (chosen if isinstance(chosen, list | tuple) else [chosen])
                }
                return [row for row in wider if facet.selects(row, values)]
        return None

    def facet_url(self, facet, value, is_selected):
        """Where a facet's choice leads: adding or setting the value, or removing it."""
        if not is_selected:
            if facet.multiple:
                return self.query.adding(facet.name, value)
            return self.query.setting(facet.name, value)
        if facet.multiple:
            return self.query.without(facet.name, value)
        return self.query.without(facet.name)

    def added_counts(self, facet, queryset, chosen, rows=None):
        """What adding a value to a repeatable filter's selection gives (values are ORed).

        Beside an unselected value of a repeatable filter the page shows the rows its
        link opens: the rows matching the current selection or this value, under the
        other filters = (rows matching the selection) + (rows matching this value among
        the others). Returns (rows matching the selection, {value: rows among the
        others}), or None when the facet is single-valued or nothing is selected.

        A selected value keeps the count of that value alone under the other filters
        (its link removes it, so no single number describes the resulting page better).

        `rows`: the facet's shared grouped rows, when it has them; with `facet.selects`
        the answer comes from them, without another query. `queryset`: the records
        under the other filters (None for a shared facet: built here if needed).
        """
        if not (facet.multiple and chosen):
            return None
        if rows is not None and facet.selects:
            values = {as_param(value) for value in chosen}
            total, others = 0, []
            for row in rows:  # one pass: 23,000 groups at ten times the twinnings
                if facet.selects(row, values):
                    total += row[-1]
                else:
                    others.append(row)
            return total, {as_param(row[0]): row[-1] for row in facet.count(others)}
        if queryset is None:
            queryset = self.filterset.filter_queryset_except(self.get_facet_queryset(), facet.name)
        matching = self.filterset.filters[facet.name].filter(queryset, list(chosen))
        others = queryset.exclude(pk__in=matching.values("pk"))
        if facet.shared:
            others = facet.shared(others)
        return matching.count(), {as_param(row[0]): row[-1] for row in facet.count(others)}

    def active_filters(self):
        filterset = self.filterset
        form = filterset.form
        cleaned = getattr(form, "cleaned_data", {})
        active = []
        for name, raw in self.query.items:
            if name not in filterset.filters:
                continue
            field = form.fields[name]
            value = raw
            if isinstance(field, ModelChoiceField) or isinstance(cleaned.get(name), Model):
                if cleaned.get(name) is not None:
                    value = str(cleaned[name])
            elif hasattr(field, "choices"):
                labels = {str(k): v for k, v in field.choices}
                value = labels.get(raw.strip().upper(), labels.get(raw.strip(), raw))
            active.append(ActiveFilter(str(field.label), str(value), self.query.without(name, raw)))
        return active

    def header(self):
        ordering = getattr(self.filterset.form, "cleaned_data", {}).get("ordering") or [""]
        current = ordering[0]
        cells = []
        for label, param, numeric in self.columns:
            cell = HeaderCell(label, numeric=numeric)
            if param:
                # A sorted column's link reverses it; any other sorts ascending.
                cell.sort = {param: "ascending", f"-{param}": "descending"}.get(current, "")
                target = f"-{param}" if cell.sort == "ascending" else param
                cell.url = self.query.setting("ordering", target)
            cells.append(cell)
        return cells

    def page_links(self, page):
        if page is None:
            return {}
        paginator = page.paginator
        links = {"number": page.number, "count": paginator.num_pages}
        if page.has_previous():
            links["first"] = self.query.page(1)
            links["previous"] = self.query.page(page.previous_page_number())
        if page.has_next():
            links["next"] = self.query.page(page.next_page_number())
            links["last"] = self.query.page(paginator.num_pages)
        return links

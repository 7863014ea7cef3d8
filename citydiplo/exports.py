"""Streamed CSV and JSON downloads of a list page's whole filtered result.

The writer is generic: each list's columns are defined in activities/exports.py. Column
names and order are part of the public interface: they are documented in
docs/exports.md, and a change there is a change for every researcher's scripts.
"""

import csv
import dataclasses
import json
from dataclasses import dataclass
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

# Twinnings drawn from Wikipedia's lists are CC BY-SA 4.0, so the catalogue as a whole
# is shared alike; GeoNames (CC BY 4.0) is compatible with that.
LICENCE = (
    "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/): the catalogue "
    "includes facts from Wikipedia (CC BY-SA 4.0) and GeoNames (CC BY 4.0)."
)
CREDIT = (
    "CityDiplo, a catalogue of city diplomacy; each record cites its sources on its page. "
    "Twin-town lists: Wikipedia contributors, compiled by Hekman/twincities. "
    "Coordinates and populations: GeoNames (https://www.geonames.org/)."
)
CHUNK_SIZE = 2000
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Column:
    """A download column: `get` reads it from a record. When every column of a list
    also names its `path` (an ORM lookup; `many=True` for a list of values across a
    many-to-many link), the download reads plain values instead of building records,
    which is several times faster on the largest lists. `bulk`, instead of a path, reads
    the column for every row at once: a callable taking the filtered queryset and
    returning {pk: value}."""

    name: str
    get: object
    description: str = ""
    path: str = ""
    many: bool = False
    bulk: object = None


def joined(values):
    return "; ".join(str(v) for v in values)


def _json_default(value):
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# A spreadsheet opening a CSV runs a cell that begins with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text):
    """`text` with a leading `'` if a spreadsheet would read it as a formula (OWASP's
    advice for CSV injection). Only text: numbers are written as they are."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _csv_value(value):
    if value is None:
        return ""
    if type(value) is str:
        return neutralise(value) if value else value
    if type(value) is int:  # most cells: nothing to convert
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return neutralise(joined(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return neutralise(str(value))


csv_value = _csv_value  # for other CSV writers (the analysis tables)


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer."""

    def write(self, value):
        return value


def record_url_maker(request):
    """obj -> absolute URL, reversing the URL pattern once a download instead of once
    per row.

    Kept for its bench figure (bench/README.md, "What each removal cost"): reversing and
    building a record per row makes the CSV of Germany's twinnings 4 to 7 times slower
    (2,500-3,900 rows/s against 12,500-18,600 in the same run). Every record's URL ends
    with its slug or id, so the first record's URL, split around its key, serves the
    rest; a URL that does not fit that shape is reversed as usual.
    """
    prefix = request.build_absolute_uri("/")[:-1]
    shape = []

    def url(obj):
        key = str(getattr(obj, "slug", None) or obj.pk)
        if not shape:
            path = obj.get_absolute_url()
            before, found, after = path.rpartition(key)
            if not found or key in before or after not in ("", "/"):
                return prefix + path
            shape.extend((prefix + before, after))
        return shape[0] + key + shape[1]

    return url


def rows(queryset, columns, request):
    if all(column.path or column.bulk for column in columns):
        yield from _value_rows(queryset, columns, request)
        return
    url = Column("url", record_url_maker(request))
    for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [(column.name, column.get(obj)) for column in (*columns, url)]


class _Key:
    """Just enough of a record for record_url_maker: its URL and its slug or pk."""

    def __init__(self, model, pk, slug):
        self.model, self.pk, self.slug = model, pk, slug

    def get_absolute_url(self):
        return self.model(
            pk=self.pk, **({"slug": self.slug} if self.slug else {})
        ).get_absolute_url()


def _value_rows(queryset, columns, request):
    """rows() from values_list(): the same columns, without building model instances."""
    model = queryset.model
    has_slug = any(f.name == "slug" for f in model._meta.concrete_fields)
    single = [c for c in columns if not c.many and not c.bulk]
    linked = {}
    for column in columns:
        if column.bulk:
            linked[column.name] = column.bulk(queryset)
        elif column.many:
            values = {}
            links = (
                model._default_manager.filter(pk__in=queryset.values("pk"))
                .order_by("pk", column.path)
                .values_list("pk", column.path)
            )
            for pk, value in links.iterator(chunk_size=CHUNK_SIZE):
                if value is not None:
                    values.setdefault(pk, []).append(value)
            linked[column.name] = values
    url = record_url_maker(request)
    plain = queryset.prefetch_related(None).values_list(
        "pk", "slug" if has_slug else "pk", *(c.path for c in single)
    )
    for pk, slug, *values in plain.iterator(chunk_size=CHUNK_SIZE):
        by_name = dict(zip((c.name for c in single), values, strict=True))
        row = [
            (c.name, linked[c.name].get(pk, []) if c.many or c.bulk else by_name[c.name])
            for c in columns
        ]
        row.append(("url", url(_Key(model, pk, slug if has_slug else None))))
        yield row


def header(columns):
    return [column.name for column in columns] + ["url"]


def _csv_lines(queryset, columns, request):
    writer = csv.writer(_Echo())
    yield writer.writerow(header(columns))
    lines = []
    for row in rows(queryset, columns, request):
        lines.append(writer.writerow([_csv_value(value) for _name, value in row]))
        if len(lines) == CHUNK_SIZE:  # stream in chunks, not a write per line
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _json_chunks(queryset, columns, request, meta):
    yield '{"meta": ' + json.dumps(meta, default=_json_default) + ', "results": ['
    separator = ""
    for row in rows(queryset, columns, request):
        yield separator + json.dumps(dict(row), default=_json_default, ensure_ascii=False)
        separator = ",\n"
    yield "]}\n"


def export_response(fmt, queryset, columns, *, name, query, request):
    """A streamed download of every row of `queryset` (already filtered and ordered).

    `name`: the plural used in the file name (`citydiplo-cities-2025-01-31.csv`);
    `query`: the filter parameters, echoed in the JSON meta.
    """
    now = timezone.now()
    filename = f"citydiplo-{name}-{now:%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(queryset, columns, request), content_type="text/csv; charset=utf-8"
        )
    else:
        meta = {
            "count": queryset.count(),
            "query": query,
            "generated": now.isoformat(timespec="seconds"),
            "licence": LICENCE,
            "credit": CREDIT,
            "columns": header(columns),
        }
        response = StreamingHttpResponse(
            _json_chunks(queryset, columns, request, meta),
            content_type="application/json; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

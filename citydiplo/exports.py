"""Streamed CSV and JSON downloads of a list page's whole filtered result.

The writer is generic: each list's columns are defined in activities/exports.py. Column
names and order are part of the public interface: they are documented in
docs/exports.md, and a change there is a change for every researcher's scripts.
"""

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.http import StreamingHttpResponse
from django.utils import timezone

from .records import url_maker

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
    """A download column: `get` reads it from a record.

    When every column of a list also says where its value lies without a record, the
    download reads plain values (`values_list`) instead of building a record per row,
    several times faster on the largest lists:
    - `path`: an ORM lookup; with `convert`, a callable returning (once a download) the
      function that turns the looked-up value into the column's (a country's name from
      its code);
    - `path` with `many=True`: the list of values across a many-to-many link;
    - `bulk`: a callable taking the filtered queryset and returning {pk: value} for
      every row at once; a row it leaves out gets `missing`. Columns naming the same
      reader share one run of it, each turning what it read into its own value with
      `convert` (the keys and the addresses of a record's sources).

    Otherwise records are built, and `prefetch` names the related records a column's
    `get` reads (lookups or Prefetch objects): a download prefetches them, while the
    list page's own queryset (`for_list`) fetches only what the page shows.
    """

    name: str
    get: object
    description: str = ""
    path: str = ""
    many: bool = False
    bulk: object = None
    convert: object = None
    missing: object = ()
    prefetch: tuple = ()


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
FORMULA_STARTS = "=+-@\t\r"


def neutralise(text):
    """`text` with a leading `'` if a spreadsheet would read it as a formula (OWASP's
    advice for CSV injection). Only text: numbers are written as they are."""
    if text and text[0] in FORMULA_STARTS:
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


def key_url_maker(request):
    """(key, path, *args) -> the absolute URL of the record whose slug or id is `key`
    (records.url_maker: `path(*args)` is called for the first record only)."""
    return url_maker(request.build_absolute_uri("/")[:-1])


def record_url_maker(request):
    """obj -> its absolute URL (key_url_maker, for records)."""
    url = key_url_maker(request)
    return lambda obj: url(str(getattr(obj, "slug", None) or obj.pk), obj.get_absolute_url)


def _plain(columns):
    return all(column.path or column.bulk for column in columns)


def rows(queryset, columns, request):
    """Each record of `queryset` as a list of its columns' values, its URL last."""
    if _plain(columns):
        yield from _value_rows(queryset, columns, request)
        return
    url = record_url_maker(request)
    # Each lookup once, though several columns name it (a record's source keys and URLs).
    lookups = dict.fromkeys(lookup for column in columns for lookup in column.prefetch)
    for obj in queryset.prefetch_related(*lookups).iterator(chunk_size=CHUNK_SIZE):
        row = [column.get(obj) for column in columns]
        row.append(url(obj))
        yield row


def _many_by_pk(queryset, column):
    """{pk: [values]} of a `many` column for every row of `queryset`, read from the
    link table alone (no join back to the records, no row for a record without one)."""
    model = queryset.model
    link_name, _, value_path = column.path.partition("__")
    link = model._meta.get_field(link_name).remote_field.through
    owner = next(f.name for f in link._meta.concrete_fields if f.related_model is model)
    target = next(
        f.name for f in link._meta.concrete_fields if f.related_model is not model and f.is_relation
    )
    found = {}
    values = (
        link.objects.filter(**{f"{owner}__in": queryset.values("pk")})
        .order_by(f"{owner}_id", f"{target}__{value_path}")
        .values_list(f"{owner}_id", f"{target}__{value_path}")
    )
    for pk, value in values.iterator(chunk_size=CHUNK_SIZE):
        found.setdefault(pk, []).append(value)
    return found


def _value_rows(queryset, columns, request):
    """rows() from values_list(): the same values, without building model instances."""
    model = queryset.model
    has_slug = any(f.name == "slug" for f in model._meta.concrete_fields)
    single = [c for c in columns if not c.many and not c.bulk]
    # Read first: the columns that come from other tables, placed by position.
    linked, reads = [], {}
    for position, column in enumerate(columns):
        if column.bulk:
            if column.bulk not in reads:
                reads[column.bulk] = column.bulk(queryset)
            found = reads[column.bulk]
            if column.convert:
                convert = column.convert()
                found = {pk: convert(value) for pk, value in found.items()}
        elif column.many:
            found = _many_by_pk(queryset, column)
        else:
            continue
        linked.append((position, found, column.missing))
    converted = [(i, c.convert()) for i, c in enumerate(single) if c.convert]
    url = key_url_maker(request)
    plain = queryset.prefetch_related(None).values_list(
        "pk", "slug" if has_slug else "pk", *(c.path for c in single)
    )
    for pk, key, *row in plain.iterator(chunk_size=CHUNK_SIZE):
        for position, convert in converted:
            row[position] = convert(row[position])
        for position, found, missing in linked:
            row.insert(position, found.get(pk, missing))
        key = str(key)
        row.append(url(key, _record_path, model, pk, key if has_slug else None))
        yield row


def _record_path(model, pk, slug):
    return model(pk=pk, **({"slug": slug} if slug else {})).get_absolute_url()


def header(columns):
    return [column.name for column in columns] + ["url"]


def _field(model, path):
    *links, name = path.split("__")
    for link in links:
        model = model._meta.get_field(link).related_model
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _csv_cells(model, columns):
    """The positions of the cells that CSV writes as (text, lists, booleans, others).

    Text is neutralised (FORMULA_STARTS); lists (`many` columns, and `bulk` ones whose
    `missing` is a list or tuple) are joined; a number, a date or an empty value is
    written as the csv module writes it, untouched; any other column, and every column
    read from records, whose types are not known, is checked value by value
    (`_csv_value`).
    """
    if not _plain(columns):
        return [], [], [], list(range(len(columns)))
    text, lists, booleans, others = [], [], [], []
    for position, column in enumerate(columns):
        if column.many or (column.bulk and isinstance(column.missing, tuple | list)):
            lists.append(position)
        elif column.bulk:
            others.append(position)
        elif column.convert:
            text.append(position)
        else:
            field = _field(model, column.path)
            if isinstance(field, models.BooleanField):
                booleans.append(position)
            elif isinstance(field, models.CharField | models.TextField):
                text.append(position)
            elif not (
                isinstance(field, models.IntegerField | models.DecimalField)
                or type(field) is models.DateField
            ):
                others.append(position)
    return text, lists, booleans, others


def _csv_lines(queryset, columns, request):
    text, lists, booleans, others = _csv_cells(queryset.model, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header(columns))
    yield _take(buffer)  # the header at once: the download starts before any query
    chunk = []
    # The loops below run once per cell of every row: written out, not through a
    # function per cell, as that doubled the time of the largest downloads.
    for row in rows(queryset, columns, request):
        for position in text:
            value = row[position]
            if value and value[0] in FORMULA_STARTS:
                row[position] = "'" + value
        for position in lists:
            value = row[position]
            row[position] = neutralise(joined(value)) if value else None
        for position in booleans:
            value = row[position]
            if value is not None:
                row[position] = "true" if value else "false"
        for position in others:
            row[position] = _csv_value(row[position])
        chunk.append(row)
        if len(chunk) == CHUNK_SIZE:  # stream in chunks, not a write per line
            writer.writerows(chunk)
            yield _take(buffer)
            chunk = []
    writer.writerows(chunk)
    yield _take(buffer)


def _take(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _json_chunks(queryset, columns, request, meta):
    names = header(columns)
    yield '{"meta": ' + json.dumps(meta, default=_json_default) + ', "results": ['
    separator = ""
    for row in rows(queryset, columns, request):
        yield separator + json.dumps(
            dict(zip(names, row, strict=True)), default=_json_default, ensure_ascii=False
        )
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

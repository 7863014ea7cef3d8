"""Whole-database backups as JSON in Django's fixture format, written and read in bulk.

`dumpdata`/`loaddata` handle a row at a time (and a query per link): fine for small
tables, minutes for a catalogue with tens of thousands of twinnings and their history.
Here every table is read with one query (plus one per many-to-many table) and written
back with bulk inserts. Primary keys are kept, since history rows refer to records by id.
Rows that point at content types or permissions (auth, admin), whose ids differ between
databases, go through Django's serializers with natural keys.
"""

import datetime
import decimal
import gzip
import json
import uuid
from collections import defaultdict

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, transaction

from .loading import refresh_planner_statistics

# Rebuilt on restore by `migrate`, or not worth keeping.
EXCLUDED = ["contenttypes", "auth.permission", "sessions", "axes"]
NATURAL_KEY_APPS = {"auth", "admin"}
BATCH_SIZE = 1000


def backed_up_models():
    """The models a backup holds, in an order that satisfies foreign keys."""
    excluded_apps = {label for label in EXCLUDED if "." not in label}
    excluded_models = {label.lower() for label in EXCLUDED if "." in label}
    by_app = defaultdict(list)
    for model in apps.get_models():
        meta = model._meta
        if (
            meta.app_label in excluded_apps
            or meta.label_lower in excluded_models
            or not meta.managed
            or meta.proxy
        ):
            continue
        by_app[apps.get_app_config(meta.app_label)].append(model)
    return serializers.sort_dependencies(by_app.items(), allow_cycles=True)


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()  # full precision: DjangoJSONEncoder drops microseconds
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _many_to_many(model):
    return [f for f in model._meta.local_many_to_many if f.remote_field.through._meta.auto_created]


def serialize_model(model):
    """All rows of a model as fixture objects ({"model", "pk", "fields"})."""
    label = model._meta.label_lower
    if model._meta.app_label in NATURAL_KEY_APPS:
        text = serializers.serialize(
            "json", model._default_manager.order_by("pk"), use_natural_foreign_keys=True
        )
        return json.loads(text)
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
    links = {}
    for m2m in _many_to_many(model):
        through = m2m.remote_field.through
        source, target = m2m.m2m_field_name() + "_id", m2m.m2m_reverse_field_name() + "_id"
        grouped = defaultdict(list)
        for owner, other in through.objects.order_by(source, target).values_list(source, target):
            grouped[owner].append(other)
        links[m2m.name] = grouped
    objects = []
    rows = model._default_manager.order_by("pk").values_list("pk", *[f.attname for f in fields])
    for pk, *values in rows.iterator(chunk_size=BATCH_SIZE):
        data = {f.name: _plain(v) for f, v in zip(fields, values, strict=True)}
        for name, grouped in links.items():
            data[name] = grouped.get(pk, [])
        objects.append({"model": label, "pk": _plain(pk), "fields": data})
    return objects


def dump(path):
    """Write the backup; returns the number of rows written."""
    objects = [obj for model in backed_up_models() for obj in serialize_model(model)]
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        json.dump(objects, handle, ensure_ascii=False)
    return len(objects)


def read(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def restore(path):
    """Load a backup into a migrated database, all or nothing; returns the row count."""
    count = _restore(path)
    refresh_planner_statistics()
    return count


@transaction.atomic
def _restore(path):
    """Load a backup into a migrated database, all or nothing; returns the row count."""
    by_model = defaultdict(list)
    for obj in read(path):
        by_model[obj["model"].lower()].append(obj)
    restored = []
    for label, objects in by_model.items():
        model = apps.get_model(label)
        if model._meta.app_label in NATURAL_KEY_APPS:
            for item in serializers.deserialize("python", objects):
                item.save()
        else:
            _bulk_restore(model, objects)
        restored.append(model)
    # A backup from before the per-side country columns: copy them afresh.
    apps.get_model("activities", "Twinning").objects.refresh_sides()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), restored):
            cursor.execute(sql)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            problems = cursor.fetchall()
        if problems:
            raise ValueError(f"The backup breaks {len(problems)} foreign keys: {problems[:3]}")
    return sum(len(objects) for objects in by_model.values())


def _bulk_restore(model, objects):
    fields = {f.name: f for f in model._meta.local_concrete_fields}
    m2m_fields = {f.name: f for f in _many_to_many(model)}
    instances, links = [], defaultdict(list)
    pk_field = model._meta.pk
    for obj in objects:
        pk = pk_field.to_python(obj["pk"])
        values = {pk_field.attname: pk}
        for name, value in obj["fields"].items():
            if name in m2m_fields:
                links[name].extend((pk, other) for other in value)
            else:
                field = fields[name]
                values[field.attname] = None if value is None else field.to_python(value)
        instances.append(model(**values))
    model._default_manager.bulk_create(instances, batch_size=BATCH_SIZE)
    for name, pairs in links.items():
        m2m = m2m_fields[name]
        through = m2m.remote_field.through
        source, target = m2m.m2m_field_name() + "_id", m2m.m2m_reverse_field_name() + "_id"
        through.objects.bulk_create(
            [through(**{source: s, target: t}) for s, t in pairs], batch_size=BATCH_SIZE
        )

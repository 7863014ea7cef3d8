"""Load fixtures/catalogue.json fast and idempotently.

Django's loaddata saves objects one by one and looks each natural key up with its own
queries: minutes for this catalogue on PostgreSQL. This loader reads each model's
natural keys once, resolves foreign keys in memory, and writes in bulk: new records are
created, existing ones (same natural key) updated in place, many-to-many links set to
exactly what the fixture says. Records the fixture does not mention (an editor's) are
left alone.
"""

import json
from collections import defaultdict

from django.apps import apps
from django.db import connection, transaction

# Load order (foreign keys point backwards) and each model's natural key as lookups.
NATURAL_KEYS = {
    "cities.city": ("slug",),
    "activities.source": ("key",),
    "activities.theme": ("slug",),
    "activities.network": ("slug",),
    "activities.membership": ("network__slug", "city__slug"),
    "activities.agreement": ("slug",),
    "activities.agreementparty": ("agreement__slug", "city__slug", "action"),
    "activities.twinning": ("city_a__slug", "city_b__slug"),
    "activities.activity": ("slug",),
    "activities.conflictingvalue": (
        "twinning__city_a__slug",
        "twinning__city_b__slug",
        "membership__network__slug",
        "membership__city__slug",
        "party__agreement__slug",
        "party__city__slug",
        "party__action",
        "field",
        "value",
    ),
}
BATCH_SIZE = 500


def fixture_key(label, fields):
    """The natural key of a fixture object, from its fields.

    A foreign key's lookups take its natural key's parts in order (a conflicting value's
    twinning is `twinning__city_a__slug`, `twinning__city_b__slug`); an empty one is None.
    """
    key, taken = [], {}
    for lookup in NATURAL_KEYS[label]:
        name, _, rest = lookup.partition("__")
        value = fields[name]
        if rest:
            position = taken[name] = taken.get(name, -1) + 1
            value = value[position] if value else None
        key.append(value)
    return tuple(key)


class CatalogueLoader:
    def __init__(self, objects):
        self.by_model = defaultdict(list)
        for obj in objects:
            label = obj["model"].lower()
            if label not in NATURAL_KEYS:
                raise ValueError(f"Unexpected model in the catalogue: {obj['model']}")
            self.by_model[label].append(obj["fields"])
        self.pks = {}  # label -> {natural key: pk}
        self.counts = {}

    @classmethod
    def from_file(cls, path):
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle))

    def existing_keys(self, model, label):
        lookups = NATURAL_KEYS[label]
        return {
            tuple(row[:-1]): row[-1]
            for row in model._default_manager.values_list(*lookups, "pk").iterator()
        }

    @transaction.atomic
    def load(self):
        for label in NATURAL_KEYS:
            self.load_model(label)
        # Bulk writes skip Twinning.save(), which copies each side's country.
        apps.get_model("activities", "Twinning").objects.refresh_sides()
        return self.counts

    def load_model(self, label):
        model = apps.get_model(label)
        rows = self.by_model.get(label, [])
        existing = self.existing_keys(model, label)
        concrete, deferred, many = self.split_fields(model)
        to_create, to_update = [], []
        for fields in rows:
            instance = model(**self.column_values(model, fields, concrete))
            pk = existing.get(fixture_key(label, fields))
            if pk is None:
                to_create.append(instance)
            else:
                instance.pk = pk
                to_update.append(instance)
        model._default_manager.bulk_create(to_create, batch_size=BATCH_SIZE)
        changed = self.changed(model, to_update, concrete)
        if changed:
            names = [f.name for f in concrete if not f.primary_key]
            model._default_manager.bulk_update(changed, names, batch_size=BATCH_SIZE)
        self.pks[label] = self.existing_keys(model, label)
        if deferred:  # foreign keys to the same model (a network merged into another)
            self.set_deferred(model, label, rows, deferred)
        for field in many:
            self.set_many(model, label, rows, field)
        self.counts[model._meta.verbose_name_plural] = (len(to_create), len(changed))

    @staticmethod
    def changed(model, instances, concrete):
        """The instances whose columns differ from the database's (usually none)."""
        if not instances:
            return []
        attnames = [f.attname for f in concrete if not f.primary_key]
        current = {
            row[0]: row[1:]
            for row in model._default_manager.values_list("pk", *attnames).iterator()
        }
        return [
            instance
            for instance in instances
            if current.get(instance.pk) != tuple(getattr(instance, a) for a in attnames)
        ]

    @staticmethod
    def split_fields(model):
        concrete, deferred, many = [], [], []
        for field in model._meta.get_fields():
            if field.many_to_many and not field.auto_created:
                if field.remote_field.through._meta.auto_created:
                    many.append(field)
            elif field.concrete and not field.auto_created and field.editable:
                # Not editable: worked out by the model (a twinning's copied countries,
                # timestamps), never set by a fixture, so never compared or written.
                if field.is_relation and field.related_model is model:
                    deferred.append(field)
                else:
                    concrete.append(field)
        return concrete, deferred, many

    def related_pk(self, field, value):
        if value is None:
            return None
        target = field.related_model._meta.label_lower
        try:
            return self.pks[target][tuple(value)]
        except KeyError:
            raise ValueError(f"{field.model.__name__}.{field.name}: unknown {value}") from None

    def column_values(self, model, fields, concrete):
        values = {}
        for field in concrete:
            if field.name not in fields:
                continue
            value = fields[field.name]
            if field.is_relation:
                values[field.attname] = self.related_pk(field, value)
            else:
                values[field.attname] = field.to_python(value)
        return values

    def set_deferred(self, model, label, rows, deferred):
        updates = []
        for fields in rows:
            instance = model(pk=self.pks[label][fixture_key(label, fields)])
            for field in deferred:
                setattr(instance, field.attname, self.related_pk(field, fields.get(field.name)))
            updates.append(instance)
        updates = self.changed(model, updates, deferred)
        if updates:
            model._default_manager.bulk_update(
                updates, [f.name for f in deferred], batch_size=BATCH_SIZE
            )

    def set_many(self, model, label, rows, field):
        """Make the links of the loaded records exactly the fixture's."""
        through = field.remote_field.through
        source_column = field.m2m_field_name() + "_id"
        target_column = field.m2m_reverse_field_name() + "_id"
        wanted = set()
        owners = []
        for fields in rows:
            owner = self.pks[label][fixture_key(label, fields)]
            owners.append(owner)
            for value in fields.get(field.name, []):
                wanted.add((owner, self.related_pk(field, value)))
        present = set()
        for start in range(0, len(owners), BATCH_SIZE):
            chunk = owners[start : start + BATCH_SIZE]
            present |= set(
                through.objects.filter(**{f"{source_column}__in": chunk}).values_list(
                    source_column, target_column
                )
            )
        stale = present - wanted
        for owner, target in stale:
            through.objects.filter(**{source_column: owner, target_column: target}).delete()
        through.objects.bulk_create(
            [through(**{source_column: o, target_column: t}) for o, t in wanted - present],
            batch_size=BATCH_SIZE,
        )


def refresh_planner_statistics():
    """After a bulk write, let the database's planner see the new table sizes.

    Until autovacuum gets to it, PostgreSQL plans on the sizes of the empty tables and
    can join 26,000 twinnings to 18,000 cities by nested loops: tens of seconds a page.
    """
    with connection.cursor() as cursor:
        # SQLite too: without statistics it takes an index on the review state (one
        # value for nearly every row) over the search's lookups of names.
        cursor.execute("ANALYZE")

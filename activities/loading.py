"""Load fixtures/catalogue.json fast and idempotently, never over an editor's work.

Django's loaddata saves objects one by one and looks each natural key up with its own
queries: minutes for this catalogue on PostgreSQL. This loader reads each model's
natural keys once, resolves foreign keys in memory, and writes in bulk.

What it does to each fixture record:
- new (no record with its natural key, and never loaded before): created;
- loaded before and changed by nobody since (its fingerprint, kept in LoadedRecord,
  still matches): updated to the fixture, many-to-many links included;
- changed since the last load (admin, import, revert, pending review), or present but
  never loaded: kept as it is and listed in `self.kept` with what the fixture would
  have set; its review state is never touched;
- loaded before and deleted since: not recreated (listed in `self.kept`), nor are
  fixture records that link to it.
Records the fixture does not mention (an editor's) are left alone. A record is found
by the natural key it had when it was loaded, so renaming a slug breaks nothing.
"""

import dataclasses
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F

from citydiplo.models import PendingChange, PendingChangeStatus

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


# Columns a load never compares: its own bookkeeping, rewritten on every save.
# and columns the database derives from other rows (a twinning's copy of its cities'
# countries, refreshed after every load).
UNTRACKED = {"created_at", "updated_at", "version", "country_a", "country_b"}


@dataclass
class Kept:
    """A record the load left alone, and what the fixture would have set."""

    label: str
    key: tuple
    pk: int | None
    reason: str
    would_set: dict = dataclasses.field(default_factory=dict)

    def __str__(self):
        name = f"{self.label} {'/'.join(str(k) for k in self.key)}"
        if not self.would_set:
            return f"{name} ({self.reason})"
        changes = "; ".join(f"{k} -> {v!r}" for k, v in self.would_set.items())
        return f"{name} ({self.reason}; the fixtures would set {changes})"


class SkipRow(Exception):
    """A fixture row links to a record the load did not recreate."""


def normalised(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def fingerprint(values):
    """A stable hash of a record's tracked columns and links, as read from the database."""
    text = json.dumps([normalised(v) for v in values], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def key_text(key):
    return json.dumps(list(key), ensure_ascii=False)


def pending_review_pks(model):
    """Records with a change waiting for review: the load leaves them alone too."""
    return set(
        PendingChange.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            status=PendingChangeStatus.PENDING,
        ).values_list("object_id", flat=True)
    )


class CatalogueLoader:
    def __init__(self, objects):
        self.by_model = defaultdict(list)
        for obj in objects:
            label = obj["model"].lower()
            if label not in NATURAL_KEYS:
                raise ValueError(f"Unexpected model in the catalogue: {obj['model']}")
            self.by_model[label].append(obj["fields"])
        self.pks = {}  # label -> {natural key: pk}
        self.skipped = defaultdict(set)  # label -> natural keys not (re)created
        self.counts = {}
        self.kept = []

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
        existing = self.existing_keys(model, label)
        concrete, deferred, many = self.split_fields(model)
        rows, to_create, matched = [], [], []
        loaded = self.loaded_before(label)
        live = set(existing.values())
        for fields in self.by_model.get(label, []):
            key = fixture_key(label, fields)
            try:
                instance = model(**self.column_values(model, fields, concrete))
            except SkipRow as exc:
                self.kept.append(Kept(label, key, None, str(exc)))
                self.skipped[label].add(key)
                continue
            memo = loaded.get(key_text(key))
            if memo is not None and memo[0] not in live:
                self.kept.append(Kept(label, key, memo[0], "deleted since the last load"))
                self.skipped[label].add(key)
                continue
            pk = memo[0] if memo is not None else existing.get(key)
            rows.append(fields)
            if pk is None:
                to_create.append(instance)
            else:
                instance.pk = pk
                matched.append((key, fields, instance))
        model._default_manager.bulk_create(to_create, batch_size=BATCH_SIZE)
        self.pks[label] = self.existing_keys(model, label)
        self.pks[label].update({key: instance.pk for key, _fields, instance in matched})

        untouched = self.untouched_since_load(model, label, matched, loaded, deferred, many)
        to_update = []
        for key, fields, instance in matched:
            if instance.pk in untouched:
                to_update.append(instance)
            else:
                self.keep(model, label, key, fields, instance, concrete, deferred, many)
        changed = self.changed(model, to_update, concrete)
        if changed:
            names = [
                f.name
                for f in concrete
                if not f.primary_key and (f.name == "updated_at" or f.name not in UNTRACKED)
            ]
            model._default_manager.bulk_update(changed, names, batch_size=BATCH_SIZE)
            if any(f.name == "version" for f in concrete):  # an open form is now stale
                pks = [instance.pk for instance in changed]
                for start in range(0, len(pks), BATCH_SIZE):
                    model._default_manager.filter(pk__in=pks[start : start + BATCH_SIZE]).update(
                        version=F("version") + 1
                    )
        kept_keys = {k.key for k in self.kept if k.label == label}
        rows = [fields for fields in rows if fixture_key(label, fields) not in kept_keys]
        if deferred:  # foreign keys to the same model (a network merged into another)
            self.set_deferred(model, label, rows, deferred)
        for many_field in many:
            self.set_many(model, label, rows, many_field)
        self.remember(model, label, rows, concrete, deferred, many, loaded)
        updated = len({i.pk for i in changed}) if changed else 0
        kept = sum(1 for k in self.kept if k.label == label)
        self.counts[model._meta.verbose_name_plural] = (len(to_create), updated, kept)

    # Whether a record changed since the load: kept apart so the rest stays a loader.

    def loaded_before(self, label):
        """{natural key text: (pk, fingerprint)} of what earlier loads wrote."""
        loaded_record = apps.get_model("activities", "LoadedRecord")
        return {
            key: (pk, print_)
            for key, pk, print_ in loaded_record.objects.filter(model=label).values_list(
                "natural_key", "object_id", "fingerprint"
            )
        }

    @staticmethod
    def tracked(concrete, deferred):
        return [
            f.attname
            for f in (*concrete, *deferred)
            if not f.primary_key and f.name not in UNTRACKED
        ]

    def current_prints(self, model, pks, concrete, deferred, many):
        """{pk: fingerprint} of the records `pks` as the database has them now."""
        attnames = self.tracked(concrete, deferred)
        values = {}
        pks = list(pks)
        for start in range(0, len(pks), BATCH_SIZE):
            chunk = pks[start : start + BATCH_SIZE]
            for row in model._default_manager.filter(pk__in=chunk).values_list("pk", *attnames):
                values[row[0]] = list(row[1:])
        for many_field in many:
            through = many_field.remote_field.through
            source = many_field.m2m_field_name() + "_id"
            target = many_field.m2m_reverse_field_name() + "_id"
            links = defaultdict(list)
            for start in range(0, len(pks), BATCH_SIZE):
                chunk = pks[start : start + BATCH_SIZE]
                for owner, linked in through.objects.filter(**{f"{source}__in": chunk}).values_list(
                    source, target
                ):
                    links[owner].append(linked)
            for pk, row in values.items():
                row.append(sorted(links[pk]))
        return {pk: fingerprint(row) for pk, row in values.items()}

    def untouched_since_load(self, model, label, matched, loaded, deferred, many):
        """The pks of matched records nobody changed since the load wrote them."""
        if not matched:
            return set()
        concrete, _deferred, _many = self.split_fields(model)
        now = self.current_prints(model, [i.pk for _k, _f, i in matched], concrete, deferred, many)
        pending = pending_review_pks(model)
        untouched, never_loaded = set(), []
        for key, _fields, instance in matched:
            memo = loaded.get(key_text(key))
            if instance.pk in pending:
                continue
            if memo is None:
                never_loaded.append(instance.pk)
            elif now.get(instance.pk) == memo[1]:
                untouched.add(instance.pk)
        return untouched | self.last_written_by_a_load(model, never_loaded, concrete)

    @staticmethod
    def last_written_by_a_load(model, pks, concrete):
        """Of records loaded before fingerprints were kept, those whose latest history
        row is a load's (no user) and still matches them: nobody changed them since."""
        history = getattr(model, "history", None)
        if history is None or not pks:
            return set()
        attnames = [f.attname for f in concrete if not f.primary_key and f.name not in UNTRACKED]
        latest = {}
        for row in (
            history.model.objects.filter(id__in=pks)
            .order_by("id", "-history_date", "-history_id")
            .values_list("id", "history_user_id", "history_change_reason", *attnames)
        ):
            latest.setdefault(row[0], row[1:])
        current = {
            row[0]: row[1:]
            for row in model._default_manager.filter(pk__in=pks).values_list("pk", *attnames)
        }
        return {
            pk
            for pk, (user, reason, *values) in latest.items()
            if user is None and reason == "load_catalogue" and tuple(values) == current.get(pk)
        }

    def keep(self, model, label, key, fields, instance, concrete, deferred, many):
        """List a record the load leaves alone, with what the fixture would set."""
        current = model._default_manager.filter(pk=instance.pk).first()
        would_set = {}
        for f in (*concrete, *deferred):
            if f.primary_key or f.name in UNTRACKED or f.name not in fields:
                continue
            if f in deferred:
                wanted = self.related_pk_or_none(f, fields.get(f.name))
            else:
                wanted = getattr(instance, f.attname)
            if getattr(current, f.attname) != wanted:
                would_set[f.name] = fields[f.name]
        for many_field in many:
            wanted = {
                self.related_pk_or_none(many_field, v) for v in fields.get(many_field.name, [])
            }
            have = set(getattr(current, many_field.name).values_list("pk", flat=True))
            if wanted != have:
                would_set[many_field.name] = fields.get(many_field.name, [])
        pending = instance.pk in pending_review_pks(model)
        loaded = self.loaded_before(label).get(key_text(key))
        if pending:
            reason = "a change to it awaits review"
        elif loaded is None:
            reason = "present before it was ever loaded"
        else:
            reason = "changed since the last load"
        if loaded is None and not would_set and not pending:
            return  # already exactly what the fixture says: nothing to keep apart
        self.kept.append(Kept(label, key, instance.pk, reason, would_set))

    def related_pk_or_none(self, field, value):
        try:
            return self.related_pk(field, value)
        except (ValueError, SkipRow):
            return None

    def remember(self, model, label, rows, concrete, deferred, many, loaded):
        """Record the fingerprint of what this load wrote (or found identical), where it
        differs from what `loaded` (loaded_before) remembers: a load that changes
        nothing rewrites nothing."""
        loaded_record = apps.get_model("activities", "LoadedRecord")
        pks = {
            key_text(fixture_key(label, f)): self.pks[label][fixture_key(label, f)] for f in rows
        }
        prints = self.current_prints(model, pks.values(), concrete, deferred, many)
        stale = [key for key, pk in pks.items() if loaded.get(key) != (pk, prints[pk])]
        for start in range(0, len(stale), BATCH_SIZE):
            loaded_record.objects.filter(
                model=label, natural_key__in=stale[start : start + BATCH_SIZE]
            ).delete()
        loaded_record.objects.bulk_create(
            [
                loaded_record(
                    model=label, natural_key=key, object_id=pks[key], fingerprint=prints[pks[key]]
                )
                for key in stale
            ],
            batch_size=BATCH_SIZE,
        )

    @staticmethod
    def changed(model, instances, concrete):
        """The instances whose columns differ from the database's (usually none)."""
        if not instances:
            return []
        # Timestamps alone do not make a change (a fixture without them would else
        # "update" every record on every load).
        attnames = [f.attname for f in concrete if not f.primary_key and f.name not in UNTRACKED]
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
        if tuple(value) in self.skipped[target]:
            raise SkipRow(f"links to {target} {'/'.join(map(str, value))}, not recreated")
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

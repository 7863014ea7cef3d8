"""Bulk import in the admin (django-import-export): cities, twinnings, memberships.

Rows name related records by natural key: cities and networks by slug, sources by key,
themes by slug. A file is all or nothing: the preview lists every row as new, update,
unchanged or invalid with its reasons, and the confirm step writes nothing unless every
row is valid. Users without the publish permission import drafts, and their updates of
published records wait for review (citydiplo/review.py); a published row must cite a
source.

Twinnings and memberships go through `BulkCatalogueResource`: each row is checked
alone, in Python, with every related key read once per file; the rows are written
together at the end (bulk_create, history copied in SQL). Cities, whose names and
slugs have rules of their own (cities.models), are saved row by row.
"""

from functools import cached_property
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction
from import_export import resources
from import_export.fields import Field
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from cities.models import City, CityName, NameSource
from citydiplo import review
from citydiplo.admin import REASON_MAX_LENGTH, can_publish
from citydiplo.records import ReviewState, hold_history, write_history

from .history import copy_to_history
from .models import Membership, Network, Source, Theme, Twinning
from .uploads import suggest

# Keys per `IN (...)` query, and rows per INSERT or UPDATE: within SQLite's limit of
# bound parameters, and few enough statements for 10,000 rows (bench/admin_import.py).
BATCH = 500
# Unknown keys given a "did you mean" each (a query, and a comparison with every key
# of the country): a file of thousands of unknown keys still previews in seconds.
SUGGESTIONS_PER_FILE = 50


def chunks(items, size=BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Unknown:
    """A key no record has, with the message saying so (and what was likely meant)."""

    def __init__(self, message):
        self.message = message


class KeyLookups:
    """Each key of a file is looked up once: `preload` reads a whole column's keys in
    a query per BATCH keys; a key met later is read then, once."""

    def found(self):
        return self.__dict__.setdefault("_found", {})

    def forget(self):
        self.__dict__.pop("_found", None)
        self.__dict__.pop("_suggested", None)

    def preload(self, cells):
        found = self.found()
        keys = dict.fromkeys(key for cell in cells for key in self.keys_of(cell))
        wanted = [key for key in keys if key not in found]  # in the file's order
        queryset = self.model._default_manager.all()
        for batch in chunks(wanted):
            for obj in queryset.filter(**{f"{self.field}__in": batch}):
                found[getattr(obj, self.field)] = obj
        for key in wanted:
            if key not in found:
                found[key] = self.unknown(key)

    def look_up(self, key):
        found = self.found()
        if key not in found:
            found[key] = self.model._default_manager.filter(
                **{self.field: key}
            ).first() or self.unknown(key)
        return found[key]

    def hint(self, key):
        suggested = self.__dict__.setdefault("_suggested", [0])
        if suggested[0] >= SUGGESTIONS_PER_FILE:
            return ""
        suggested[0] += 1
        return suggest(key, self.model, self.field)


class KeyWidget(KeyLookups, ForeignKeyWidget):
    """A related record by its slug or key; an unknown one is a readable error."""

    def keys_of(self, cell):
        key = str(cell).strip() if cell is not None else ""
        return [key] if key else []

    def clean(self, value, row=None, **kwargs):
        keys = self.keys_of(value)
        if not keys:
            return None
        found = self.look_up(keys[0])
        if isinstance(found, Unknown):
            raise ValueError(found.message)
        return found

    def unknown(self, key):
        hint = self.hint(key)
        hint = f": did you mean “{hint}”?" if hint else "."
        return Unknown(f"No {self.model._meta.verbose_name} with the {self.field} “{key}”{hint}")


class KeysWidget(KeyLookups, ManyToManyWidget):
    """Several related records by key, separated by `;`; unknown keys are an error."""

    def __init__(self, model, field):
        super().__init__(model, separator=";", field=field)

    def keys_of(self, cell):
        keys = (key.strip() for key in str(cell or "").split(self.separator))
        return list(dict.fromkeys(key for key in keys if key))

    def clean(self, value, row=None, **kwargs):
        """The records named, in the cell's order (a list: m2m `set()` takes it)."""
        linked = [self.look_up(key) for key in self.keys_of(value)]
        unknown = sorted(
            (obj.message for obj in linked if isinstance(obj, Unknown)), key=str.casefold
        )
        if unknown:
            name = self.model._meta.verbose_name_plural
            raise ValueError(f"Unknown {name}: {', '.join(unknown)}.")
        return linked

    def unknown(self, key):
        hint = self.hint(key)
        return Unknown(f"{key} (did you mean “{hint}”?)" if hint else key)


def sources_field():
    return Field(attribute="sources", column_name="sources", widget=KeysWidget(Source, "key"))


class CatalogueResource(resources.ModelResource):
    """Shared rules: review state by permission, a source when published, one row
    per record, a reason in the history. Rows are saved one by one."""

    class Meta:
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = False
        report_skipped = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        for field in self.key_fields():
            field.widget.forget()
        self.user = kwargs.get("user")
        self.file_name = kwargs.get("file_name") or "a file"
        self.reason = f"Imported from {self.file_name}"[:REASON_MAX_LENGTH]
        self.rows_by_identity = {}
        self.may_publish = self.user is not None and can_publish(self.user, self._meta.model)

    def get_import_fields(self):
        # The same for every row: worked out once per file, not once per row and field.
        if "_import_fields" not in self.__dict__:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def key_fields(self):
        return [f for f in self.fields.values() if isinstance(f.widget, KeyLookups)]

    def get_instance(self, instance_loader, row):
        errors = {}
        for name in self.get_import_id_fields():
            try:
                self.fields[name].clean(row)
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)
        return super().get_instance(instance_loader, row)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name not in row:
            return  # (as the library does, without formatting a debug message per cell)
        # A record found by its import identity already has it: a twinning found from
        # the other side keeps its order (city_a, city_b).
        if field.attribute in self.get_import_id_fields() and not instance._state.adding:
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        previous_state = instance.review_state
        adding = instance._state.adding
        # An editor's update of a published record waits for review: remember what it
        # says now; the record is then left as it is and the change proposed instead.
        instance._review_before = None
        if not adding and self.user is not None and review.needs_review(self.user, instance):
            instance._review_before = self.state_before(instance)
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)

        if not self.may_publish or not row.get("review_state"):
            instance.review_state = ReviewState.DRAFT if adding else previous_state

        instance._import_links = {}
        for field in self.get_import_fields():
            if isinstance(field.widget, ManyToManyWidget) and field.column_name in row:
                try:
                    linked = field.clean(row)
                except ValueError as exc:
                    errors[field.attribute] = str(exc)
                else:
                    instance._import_links[field.attribute] = sorted(obj.pk for obj in linked)

        if instance.review_state == ReviewState.PUBLISHED and "sources" not in errors:
            if "sources" in row:
                has_source = bool(instance._import_links.get("sources"))
            else:  # (prefetched by the bulk imports)
                has_source = not adding and bool(instance.sources.all())
            if not has_source:
                errors["sources"] = "A published record cites at least one source."

        identity = self.identity(instance)
        if identity is not None and not errors:
            first = self.rows_by_identity.setdefault(identity, kwargs.get("row_number"))
            if first != kwargs.get("row_number"):
                errors[self.identity_field] = f"The same record is already in row {first}."
        if errors:
            raise ValidationError(errors)

    def state_before(self, instance):
        return review.record_state(instance)

    def identity(self, instance):
        return None

    identity_field = "__all__"

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        instance._change_reason = self.reason
        # One history row per row, with its links: written by save_m2m (not for a
        # preview, which is rolled back).
        instance._history_type = "+" if instance._state.adding else "~"
        hold_history(instance)

    def do_instance_save(self, instance, is_create):
        if getattr(instance, "_review_before", None) is not None:
            return  # written if a chief editor approves it (save_m2m proposes it)
        super().do_instance_save(instance, is_create)

    def save_m2m(self, instance, row, **kwargs):
        before = getattr(instance, "_review_before", None)
        if before is None:
            super().save_m2m(instance, row, **kwargs)
            if instance.pk is not None and not self._is_dry_run(kwargs):
                write_history(instance, getattr(instance, "_history_type", "~"))
            return
        after = None
        try:
            with transaction.atomic():
                instance.save()
                super().save_m2m(instance, row, **kwargs)
                after = review.record_state(instance)
                raise review.Rollback
        except review.Rollback:
            pass
        review.propose(instance, before, after, user=self.user, reason=self.reason)


class BulkCatalogueResource(CatalogueResource):
    """The same rules, for files of many thousands of rows (bench/admin_import.py).

    django-import-export's bulk mode (`use_bulk`) runs each row's checks and keeps the
    instances; nothing is written until every row has passed, then everything at once
    in the file's one transaction. Where each rule lives:

    - Related keys (cities, networks, sources, themes) and the records the file
      updates, with their links and inline rows, are read once per file
      (`before_import`), not once per row.
    - Each row is checked by its model's own rules, in Python: `clean_fields()`
      (types, lengths, choices: the choice CheckConstraints) and `clean()` (which
      repeats every other CheckConstraint, as the project's models do for the admin;
      tests/test_admin_import.py checks that each constraint is caught). Django's
      `validate_constraints()` would ask the database once per constraint and row,
      and a foreign key's check once per key and row: the keys were resolved above.
    - The unique identity (a pair of places in either order, a city in a network) is
      checked against the records read once per file, and between the file's rows.
    - The database enforces every constraint again when the rows are written: a
      violation there rolls back the whole file, and the page says nothing was
      imported.
    - What save() sets itself (version, timestamps, a twinning's copy of its places'
      names) comes from the model's `prepare_save()`; simple-history's rows are copied
      in SQL with the links (`copy_to_history`); an editor's changes to published
      records are proposed for review in one go (`review.propose_many`).
    """

    class Meta(CatalogueResource.Meta):
        use_bulk = True
        batch_size = None  # bulk_create() below writes once every row has passed
        skip_diff = True  # the preview shows the file's cells, not a diff of each row
        store_row_values = True
        skip_unchanged = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.proposed = 0
        headers = set(dataset.headers or ())
        for field in self.key_fields():
            if field.column_name in headers:
                field.widget.preload(dataset[field.column_name])
        self.existing = {}
        id_columns = {self.fields[name].column_name for name in self.get_import_id_fields()}
        if id_columns <= headers:
            self.existing = self.load_existing(dataset.dict)

    def load_existing(self, rows):
        """{identity: record} for the records the file's rows name, with what
        `record_state` reads (links, inline rows) prefetched."""
        identities = set()
        for row in rows:
            try:
                identity = self.row_identity(row)
            except ValidationError:
                continue
            if identity is not None:
                identities.add(identity)
        pks = self.existing_pks(identities)
        model = self._meta.model
        queryset = (
            model._default_manager.select_related(*self.resolved_fields)
            .prefetch_related(*review.state_lookups(model))
            .order_by()
        )
        records = {}
        for batch in chunks(pks.values()):
            records.update((obj.pk, obj) for obj in queryset.filter(pk__in=batch))
        return {identity: records[pk] for identity, pk in pks.items() if pk in records}

    def row_identity(self, row):
        """The row's identity (see `identity`), None if a key is blank, or the
        ValidationError of its unknown keys."""
        values, errors = {}, {}
        for name in self.get_import_id_fields():
            field = self.fields[name]
            try:
                values[field.attribute] = field.clean(row)
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)
        if any(value is None for value in values.values()):
            return None
        # `identity` reads the keys' ids: no model instance needed for that.
        return self.identity(SimpleNamespace(**{f"{k}_id": v.pk for k, v in values.items()}))

    def existing_pks(self, identities):
        """{identity: pk} of the records that have one of `identities`."""
        raise NotImplementedError

    def get_instance(self, instance_loader, row):
        identity = self.row_identity(row)
        # Handed out once: a second row with the same identity is refused as such.
        return self.existing.pop(identity, None) if identity is not None else None

    def state_before(self, instance):
        return instance._import_before[0]

    def import_instance(self, instance, row, **kwargs):
        adding = instance._state.adding
        instance._import_before = None
        if not adding:
            instance._import_before = (review.record_state(instance), instance.review_state)
        super().import_instance(instance, row, **kwargs)  # raises if the row is invalid
        blank = [name for name in self.resolved_fields if getattr(instance, f"{name}_id") is None]
        if blank:  # Django's own "cannot be null", before prepare_save() reads them
            instance.clean_fields(
                exclude=[f.name for f in instance._meta.fields if f.name not in blank]
            )
        instance._written_fields = instance.prepare_save()
        if not adding:
            before = instance._import_before[0]
            instance._import_after = {
                "fields": review.fields_state(instance),
                "links": {**before["links"], **instance._import_links},
                "children": before["children"],
            }

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """An existing record the row would not change is left alone ("unchanged")."""
        if import_validation_errors or instance._state.adding:
            return False
        before, state = instance._import_before
        return instance._import_after == before and instance.review_state == state

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, *self.resolved_fields, *self.derived_fields],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    @cached_property
    def resolved_fields(self):
        """Foreign keys given by key: each found once per file, no need to check it
        exists once per row (ForeignKey.validate would)."""
        return [f.attribute for f in self.fields.values() if isinstance(f.widget, KeyWidget)]

    @cached_property
    def derived_fields(self):
        """Columns no file sets, written by prepare_save() from checked values (version,
        timestamps, a twinning's copy of its places' names and countries)."""
        return [f.name for f in self._meta.model._meta.fields if not f.editable]

    def save_m2m(self, instance, row, **kwargs):
        pass  # written with the rows, by bulk_create and bulk_update

    def may_write(self, dry_run, result):
        # A preview writes nothing: every rule was checked above, in Python.
        return not dry_run and not result.has_errors() and not result.has_validation_errors()

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        try:
            if self.create_instances and self.may_write(dry_run, result):
                with transaction.atomic():
                    self.write_new(self.create_instances)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        try:
            if self.update_instances and self.may_write(dry_run, result):
                with transaction.atomic():
                    self.write_updates(self.update_instances)
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)
        finally:
            self.update_instances.clear()

    def write_new(self, instances):
        model = self._meta.model
        model._default_manager.bulk_create(instances, batch_size=BATCH)
        self.write_links(instances)
        copy_to_history(model, [obj.pk for obj in instances], self.reason, user=self.user)

    def write_updates(self, instances):
        model = self._meta.model
        proposals = [obj for obj in instances if obj._review_before is not None]
        direct = [obj for obj in instances if obj._review_before is None]
        if direct:
            imported = [model._meta.get_field(f.attribute) for f in self.get_import_fields()]
            columns = {f.name for f in imported if f.concrete and not f.many_to_many}
            columns |= {"review_state", *direct[0]._written_fields}
            columns -= set(self.get_import_id_fields())
            model._default_manager.bulk_update(direct, sorted(columns), batch_size=BATCH)
            self.write_links(direct, replace=True)
            copy_to_history(
                model, [obj.pk for obj in direct], self.reason, history_type="~", user=self.user
            )
        changes = review.propose_many(
            [(obj, obj._review_before, obj._import_after) for obj in proposals],
            user=self.user,
            reason=self.reason,
        )
        self.proposed += len(changes)

    def write_links(self, instances, replace=False):
        """The rows' links (sources, themes) as the file gives them."""
        model = self._meta.model
        for field in self.get_import_fields():
            if not isinstance(field.widget, ManyToManyWidget):
                continue
            owners = [obj for obj in instances if field.attribute in obj._import_links]
            if not owners:
                continue
            m2m = model._meta.get_field(field.attribute)
            through = m2m.remote_field.through
            owner, target = f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
            if replace:
                for batch in chunks(obj.pk for obj in owners):
                    through.objects.filter(**{f"{owner}__in": batch}).delete()
            through.objects.bulk_create(
                (
                    through(**{owner: obj.pk, target: pk})
                    for obj in owners
                    for pk in obj._import_links[field.attribute]
                ),
                batch_size=BATCH,
            )

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.proposed_changes = self.proposed


class CityResource(CatalogueResource):
    """`alternate_names`: other names, separated by `;` or on lines of their own; they
    add to the names a city has (cities.CityName), never remove one."""

    sources = sources_field()
    alternate_names = Field(column_name="alternate_names", readonly=True)

    def dehydrate_alternate_names(self, city):
        return "; ".join(city.names.exclude(source=NameSource.MAIN).values_list("name", flat=True))

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        text = str(row.get("alternate_names") or "").replace("\n", ";")
        names = [name.strip() for name in text.split(";") if name.strip()]
        CityName.objects.add([(instance.pk, name) for name in names], NameSource.EDITOR)

    class Meta(CatalogueResource.Meta):
        model = City
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "name",
            "alternate_names",
            "country",
            "subdivision",
            "kind",
            "is_capital",
            "latitude",
            "longitude",
            "population",
            "population_year",
            "geonames_id",
            "wikidata_id",
            "summary",
            "notes",
            "sources",
            "review_state",
        ]

    def import_instance(self, instance, row, **kwargs):
        if row.get("country"):
            row["country"] = str(row["country"]).strip().upper()
        try:
            super().import_instance(instance, row, **kwargs)
        finally:
            if not instance.slug and instance.name and instance.country:
                instance.slug = City.unique_slug(
                    instance.name, instance.country.code, instance.subdivision
                )

    def identity(self, instance):
        return instance.slug or None

    identity_field = "slug"


class TwinningResource(BulkCatalogueResource):
    city_a = Field(attribute="city_a", column_name="city_a", widget=KeyWidget(City, "slug"))
    city_b = Field(attribute="city_b", column_name="city_b", widget=KeyWidget(City, "slug"))
    themes = Field(attribute="themes", column_name="themes", widget=KeysWidget(Theme, "slug"))
    sources = sources_field()

    class Meta(BulkCatalogueResource.Meta):
        model = Twinning
        import_id_fields = ["city_a", "city_b"]
        fields = [
            "city_a",
            "city_b",
            "kind",
            "start_year",
            "start_on",
            "start_precision",
            "status",
            "status_year",
            "status_on",
            "status_reason",
            "status_act",
            "themes",
            "notes",
            "sources",
            "review_state",
        ]

    def identity(self, instance):
        """The pair in either order is the same twinning."""
        if instance.city_a_id and instance.city_b_id:
            return frozenset((instance.city_a_id, instance.city_b_id))
        return None

    identity_field = "city_b"

    def existing_pks(self, identities):
        cities = sorted({pk for pair in identities for pk in pair})
        found = {}
        for side in ("city_a", "city_b"):
            for batch in chunks(cities):
                rows = Twinning.objects.filter(**{f"{side}__in": batch}).values_list(
                    "city_a_id", "city_b_id", "pk"
                )
                for a, b, pk in rows:
                    if frozenset((a, b)) in identities:
                        found[frozenset((a, b))] = pk
        return found


class MembershipResource(BulkCatalogueResource):
    network = Field(attribute="network", column_name="network", widget=KeyWidget(Network, "slug"))
    city = Field(attribute="city", column_name="city", widget=KeyWidget(City, "slug"))
    sources = sources_field()

    class Meta(BulkCatalogueResource.Meta):
        model = Membership
        import_id_fields = ["network", "city"]
        fields = [
            "network",
            "city",
            "role",
            "category",
            "joined_year",
            "left_year",
            "notes",
            "sources",
            "review_state",
        ]

    def identity(self, instance):
        if instance.network_id and instance.city_id:
            return (instance.network_id, instance.city_id)
        return None

    identity_field = "city"

    def existing_pks(self, identities):
        cities = sorted({city for _, city in identities})
        found = {}
        for batch in chunks(cities):
            rows = Membership.objects.filter(city__in=batch).values_list(
                "network_id", "city_id", "pk"
            )
            for network, city, pk in rows:
                if (network, city) in identities:
                    found[(network, city)] = pk
        return found

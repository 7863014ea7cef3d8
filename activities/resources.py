"""Bulk import in the admin (django-import-export): cities, twinnings, memberships.

Rows name related records by natural key: cities and networks by slug, sources by key,
themes by slug. A file is all or nothing: the preview lists every row as new, update
or invalid with its reasons, and the confirm step writes nothing unless every row is
valid. Users without the publish permission import drafts; a published row must
cite a source.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from import_export import resources
from import_export.fields import Field
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from cities.models import City, CityName, NameSource
from citydiplo import review
from citydiplo.admin import REASON_MAX_LENGTH, can_publish
from citydiplo.records import ReviewState, hold_history, write_history

from .models import Membership, Network, Source, Theme, Twinning
from .uploads import suggest


class KeyWidget(ForeignKeyWidget):
    """A related record by its slug or key; an unknown one is a readable error."""

    def clean(self, value, row=None, **kwargs):
        # Each key is looked up once per import, not once per row.
        found = self.__dict__.setdefault("_found", {})
        key = str(value).strip() if value is not None else None
        if key in found:
            return found[key]
        try:
            found[key] = super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            name = self.model._meta.verbose_name
            hint = suggest(key, self.model, self.field)
            hint = f": did you mean “{hint}”?" if hint else "."
            raise ValueError(f"No {name} with the {self.field} “{value}”{hint}") from None
        return found[key]

    def forget(self):
        self.__dict__.pop("_found", None)


class KeysWidget(ManyToManyWidget):
    """Several related records by key, separated by `;`; unknown keys are an error."""

    def __init__(self, model, field):
        super().__init__(model, separator=";", field=field)

    def clean(self, value, row=None, **kwargs):
        # Each distinct cell is looked up once per import, not once per row.
        cache = self.__dict__.setdefault("_found", {})
        cell = str(value or "")
        if cell not in cache:
            try:
                cache[cell] = self.look_up(value, row, **kwargs)
            except ValueError as exc:
                cache[cell] = exc
        if isinstance(cache[cell], ValueError):
            raise cache[cell]
        return cache[cell]

    def look_up(self, value, row=None, **kwargs):
        found = list(super().clean(value, row, **kwargs))
        if value:
            wanted = {key.strip() for key in str(value).split(self.separator) if key.strip()}
            missing = wanted - {getattr(obj, self.field) for obj in found}
            if missing:
                name = self.model._meta.verbose_name_plural
                named = []
                for key in sorted(missing):
                    hint = suggest(key, self.model, self.field)
                    named.append(f"{key} (did you mean “{hint}”?)" if hint else key)
                raise ValueError(f"Unknown {name}: {', '.join(named)}.")
        return found

    def forget(self):
        self.__dict__.pop("_found", None)


def sources_field():
    return Field(attribute="sources", column_name="sources", widget=KeysWidget(Source, "key"))


class CatalogueResource(resources.ModelResource):
    """Shared rules: review state by permission, a source when published, one row
    per record, a reason in the history."""

    class Meta:
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = False
        report_skipped = True

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, KeyWidget | KeysWidget):
                field.widget.forget()
        self.user = kwargs.get("user")
        self.file_name = kwargs.get("file_name") or "a file"
        self.rows_by_identity = {}

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

    def import_instance(self, instance, row, **kwargs):
        previous_state = instance.review_state
        adding = instance._state.adding
        # An editor's update of a published record waits for review: remember what it
        # says now; save_m2m below turns the row into a proposal instead of a write.
        instance._review_before = None
        if not adding and self.user is not None and review.needs_review(self.user, instance):
            instance._review_before = review.record_state(instance)
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)

        may_publish = self.user is not None and can_publish(self.user, self._meta.model)
        if not may_publish or not row.get("review_state"):
            instance.review_state = ReviewState.DRAFT if adding else previous_state

        for field in self.get_import_fields():
            if isinstance(field.widget, ManyToManyWidget) and field.column_name in row:
                try:
                    field.clean(row)
                except ValueError as exc:
                    errors[field.attribute] = str(exc)

        if instance.review_state == ReviewState.PUBLISHED and "sources" not in errors:
            if "sources" in row:
                has_source = bool(row["sources"] and str(row["sources"]).strip())
            else:
                has_source = not adding and instance.sources.exists()
            if not has_source:
                errors["sources"] = "A published record cites at least one source."

        identity = self.identity(instance)
        if identity is not None and not errors:
            first = self.rows_by_identity.setdefault(identity, kwargs.get("row_number"))
            if first != kwargs.get("row_number"):
                errors[self.identity_field] = f"The same record is already in row {first}."
        if errors:
            raise ValidationError(errors)

    def identity(self, instance):
        return None

    identity_field = "__all__"

    def before_save_instance(self, instance, row, **kwargs):
        super().before_save_instance(instance, row, **kwargs)
        instance._change_reason = f"Imported from {self.file_name}"[:REASON_MAX_LENGTH]
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
        reason = f"Imported from {self.file_name}"[:REASON_MAX_LENGTH]
        review.propose(instance, before, after, user=self.user, reason=reason)


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


class TwinningResource(CatalogueResource):
    city_a = Field(attribute="city_a", column_name="city_a", widget=KeyWidget(City, "slug"))
    city_b = Field(attribute="city_b", column_name="city_b", widget=KeyWidget(City, "slug"))
    themes = Field(attribute="themes", column_name="themes", widget=KeysWidget(Theme, "slug"))
    sources = sources_field()

    class Meta(CatalogueResource.Meta):
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

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.pairs = None

    def get_instance(self, instance_loader, row):
        """The pair in either order is the same twinning."""
        errors = {}
        cities = []
        for name in ("city_a", "city_b"):
            try:
                cities.append(self.fields[name].clean(row))
            except ValueError as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)
        if None in cities:
            return None
        if self.pairs is None:  # every pair, read once per import instead of once per row
            self.pairs = {
                frozenset((a, b)): pk
                for a, b, pk in Twinning.objects.values_list("city_a_id", "city_b_id", "pk")
            }
        pk = self.pairs.get(frozenset(city.pk for city in cities))
        return Twinning.objects.filter(pk=pk).first() if pk else None

    def identity(self, instance):
        if instance.city_a_id and instance.city_b_id:
            return frozenset((instance.city_a_id, instance.city_b_id))
        return None

    identity_field = "city_b"


class MembershipResource(CatalogueResource):
    network = Field(attribute="network", column_name="network", widget=KeyWidget(Network, "slug"))
    city = Field(attribute="city", column_name="city", widget=KeyWidget(City, "slug"))
    sources = sources_field()

    class Meta(CatalogueResource.Meta):
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

"""FilterSets of the city list, and the pieces every list page's FilterSet shares."""

import re

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse_lazy
from django_countries import countries

from . import facets
from .models import City, CityName, PlaceKind
from .records import ReviewState
from .regions import Region

PUBLISHED = ReviewState.PUBLISHED
BOOLEAN_CHOICES = [("true", "Yes"), ("false", "No")]


def country_choices():
    return list(countries)


# Form fields that never turn odd input into a server error ------------------------------


class CodeMultipleChoiceField(forms.MultipleChoiceField):
    """Repeatable codes (`?country=FR&country=de`): blanks dropped, case ignored."""

    def to_python(self, value):
        return [str(v).strip().upper() for v in super().to_python(value) if str(v).strip()]


class CodeChoiceField(forms.ChoiceField):
    def to_python(self, value):
        return super().to_python(value).strip().upper()


class BoundedIntegerField(forms.IntegerField):
    """An integer the database can store; huge numbers are a form error, not a crash."""

    def __init__(self, *args, min_value=0, max_value=10**12, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class CountryPairField(forms.CharField):
    """Two ISO codes joined by a dash (DE-FR), returned as a sorted pair."""

    default_error_messages = {
        "invalid": "Give two ISO country codes joined by a dash, such as DE-FR.",
        "unknown": "Unknown country code: %(code)s.",
    }

    def to_python(self, value):
        value = super().to_python(value).strip().upper()
        if not value:
            return None
        if not re.fullmatch(r"[A-Z]{2}-[A-Z]{2}", value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        pair = value.split("-")
        for code in pair:
            if code not in countries:
                raise forms.ValidationError(
                    self.error_messages["unknown"], code="unknown", params={"code": code}
                )
        return tuple(sorted(pair))


# Filters -----------------------------------------------------------------------------


class CountryFilter(django_filters.MultipleChoiceFilter):
    field_class = CodeMultipleChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", country_choices)
        kwargs.setdefault("label", "Country")
        super().__init__(*args, **kwargs)


class CountryPairFilter(django_filters.CharFilter):
    """`?country_pair=DE-FR`: the filter method receives the sorted pair of codes."""

    field_class = CountryPairField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "e.g. DE-FR"}))
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.NumberFilter):
    field_class = BoundedIntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 9999)
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    field_class = BoundedIntegerField


class YesNoFilter(django_filters.ChoiceFilter):
    """`?capital=true` / `false`; the facet links use the same words.

    `condition`: a callable returning the Q (or Exists) that `true` selects.
    """

    def __init__(self, *args, condition, **kwargs):
        self.condition = condition
        kwargs.setdefault("choices", BOOLEAN_CHOICES)
        kwargs.setdefault("empty_label", "Any")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        condition = self.condition()
        return qs.filter(condition if value == "true" else ~condition)


class SlugChoiceFilter(django_filters.ModelChoiceFilter):
    """A record chosen by its slug, typed or linked (`?city=paris-fr`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "slug, e.g. paris-fr"}))
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "Nothing published in the catalogue has this slug."},
        )
        super().__init__(*args, **kwargs)


CANDIDATES_SHOWN = 8


class PlaceNameField(forms.CharField):
    """A place typed by any of its names ("Lyon", "Muenchen", "Kiev") or by its slug
    (what links and the autocomplete send), cleaned to one published City.

    One match is used. An ambiguous name is an error that lists the candidates
    (`self.candidates`, best match first, for the page to offer as links); an unknown
    one says so and offers the closest names. `self.typed_name` is True when a name,
    not a slug, chose the place, so the page can move the slug into its address.
    """

    default_error_messages = {
        "ambiguous": "“%(name)s” names %(count)s places: choose one.",
        "unknown": "No published place is called “%(name)s”.",
        "unknown_suggest": "No published place is called “%(name)s”. Did you mean %(names)s?",
    }

    def __init__(self, *, queryset, **kwargs):
        self.queryset = queryset
        self.candidates = []
        self.typed_name = False
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, value):
        self.candidates, self.typed_name = [], False
        value = super().clean(value)
        if not value:
            return None
        places = self.queryset() if callable(self.queryset) else self.queryset
        by_slug = places.filter(slug=value).first()
        if by_slug is not None:
            return by_slug
        matches = list(places.search(value)[: CANDIDATES_SHOWN + 1])
        best = [city for city in matches if city.match == matches[0].match] if matches else []
        if len(best) == 1:
            self.typed_name = True
            return best[0]
        if best:
            self.candidates = best[:CANDIDATES_SHOWN]
            count = len(best) if len(best) <= CANDIDATES_SHOWN else f"{CANDIDATES_SHOWN}+"
            raise forms.ValidationError(
                self.error_messages["ambiguous"],
                code="ambiguous",
                params={"name": value, "count": count},
            )
        closest = CityName.objects.closest(value)
        if closest:
            self.candidates = [city for _name, city in closest]
            raise forms.ValidationError(
                self.error_messages["unknown_suggest"],
                code="unknown",
                params={"name": value, "names": " or ".join(c.name for c in self.candidates)},
            )
        raise forms.ValidationError(
            self.error_messages["unknown"], code="unknown", params={"name": value}
        )


class PlaceNameFilter(django_filters.Filter):
    """A filter taking a place by name or slug (`?city=lyon-fr`, `?city=Lyon`): see
    PlaceNameField. The form field is a plain text input that the autocomplete
    (static/js/place-picker.js) enhances where scripts run."""

    field_class = PlaceNameField

    def __init__(self, *args, queryset, **kwargs):
        kwargs["queryset"] = queryset
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "placeholder": "Name, e.g. Lyon",
                    "autocomplete": "off",
                    "data-place-picker": reverse_lazy("cities:city-autocomplete"),
                    "spellcheck": "false",
                }
            ),
        )
        super().__init__(*args, **kwargs)


def only(queryset, **lookups):
    """Filter through a many-valued relation without joining it into the outer query.

    A subquery keeps one row per record (no duplicates, no DISTINCT) and leaves the
    facet queries free to join the relation afresh.
    """
    inner = queryset.model._base_manager.filter(**lookups).values("pk")
    return queryset.filter(pk__in=inner)


class CatalogueFilterSet(django_filters.FilterSet):
    """Text search, facets and a stable ordering, shared by every list page."""

    q = django_filters.CharFilter(method="search", label="Search")

    facets = ()
    #: Columns always appended to the ordering, so pages never overlap.
    tiebreak = ("pk",)

    def search(self, queryset, name, value):
        """`q`: the model's own search (QuerySet.search), shared with the site search."""
        return queryset.search(value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
        return queryset.order_by(*ordering, *self.tiebreak)

    def filter_queryset_except(self, queryset, name):
        """The queryset filtered by every valid parameter but `name` (and unordered)."""
        for filter_name, value in self.form.cleaned_data.items():
            if filter_name in (name, "ordering"):
                continue
            queryset = self.filters[filter_name].filter(queryset, value)
        return queryset.order_by()


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Sorting where blanks (no year, no population) come last in either direction.

    Databases disagree (SQLite puts NULL first ascending, PostgreSQL last), so the
    order is spelt out.
    """

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        param = param[1:] if descending else param
        column = F(self.param_map.get(param, param))
        return column.desc(nulls_last=True) if descending else column.asc(nulls_last=True)


def ordering_filter(*fields):
    """`?ordering=name` / `-name`: (query expression, parameter, label) triples."""
    return NullsLastOrderingFilter(
        fields=[(field, param) for field, param, _label in fields],
        field_labels={field: label for field, _param, label in fields},
        label="Sort by",
        empty_label="Default",
    )


def published_network_model():
    """Network, reached through the membership relation (cities never imports activities)."""
    membership = City._meta.get_field("memberships").related_model
    return membership._meta.get_field("network").related_model


def _twinning_model():
    return City._meta.get_field("twinnings_as_a").related_model


def has_twinning_condition():
    """Exists: a published twinning with a published partner, on either side."""
    published = _twinning_model().objects.published()  # both places published
    return Q(Exists(published.filter(city_a=OuterRef("pk")))) | Q(
        Exists(published.filter(city_b=OuterRef("pk")))
    )


def _published_memberships():
    """Published memberships of published cities in published networks."""
    return City._meta.get_field("memberships").related_model.objects.published()


class CityFilterSet(CatalogueFilterSet):
    country = CountryFilter(field_name="country")
    region = django_filters.ChoiceFilter(
        choices=Region.choices, method="filter_region", label="Region", empty_label="Any"
    )
    kind = django_filters.ChoiceFilter(
        choices=PlaceKind.choices, label="Kind of place", empty_label="Any"
    )
    population_min = IntegerFilter(
        field_name="population", lookup_expr="gte", label="Population at least"
    )
    population_max = IntegerFilter(
        field_name="population", lookup_expr="lte", label="Population at most"
    )
    network = SlugChoiceFilter(
        queryset=lambda request: published_network_model().objects.filter(review_state=PUBLISHED),
        method="filter_network",
        label="Member of network",
        widget=forms.Select,
    )
    has_twinnings = YesNoFilter(condition=lambda: has_twinning_condition(), label="Has twinnings")
    capital = YesNoFilter(condition=lambda: Q(is_capital=True), label="National capital")
    ordering = ordering_filter(
        ("name", "name", "Name"),
        ("country", "country", "Country"),
        ("kind", "kind", "Kind"),
        ("population", "population", "Population"),
        ("twinning_count", "twinnings", "Twinnings"),
        ("network_count", "networks", "Networks"),
    )

    facets = (
        facets.Facet("country", facets.grouped("country"), multiple=True),
        facets.Facet("region", facets.regions_from("country")),
        facets.Facet("kind", facets.grouped("kind")),
        facets.Facet(
            "network",
            facets.through(
                _published_memberships(), "city", "network__slug", label="network__name"
            ),
        ),
        facets.Facet("has_twinnings", facets.yes_no(has_twinning_condition)),
        facets.Facet("capital", facets.grouped("is_capital")),
    )

    class Meta:
        model = City
        fields = []

    def filter_region(self, queryset, name, value):
        return queryset.in_region(value)

    def filter_network(self, queryset, name, value):
        return only(
            queryset,
            memberships__network=value,
            memberships__review_state=PUBLISHED,
        )

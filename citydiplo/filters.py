"""The pieces every list page's FilterSet shares: fields that never turn odd input into a
server error, filters for countries, years and yes/no questions, and the base FilterSet."""

import re

import django_filters
from django import forms
from django.db.models import F
from django_countries import countries

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
        # One value per row: no DISTINCT (which made counting the city list compute
        # every row's annotations).
        kwargs.setdefault("distinct", False)
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
        """`q`: the model's own search (QuerySet.search), shared with the site search.

        Searched once a page: the facets' querysets (the same records, other filters)
        take the rows the list's search found, so a search that ranks in Python
        (activities.search) runs its query once, not once per facet.
        """
        searched = getattr(self, "_searched", None)
        if searched is not None and searched[0] == value and searched[1] is queryset.model:
            return queryset.filter(pk__in=searched[2].order_by().values("pk"))
        result = queryset.search(value)
        self._searched = (value, queryset.model, result)
        return result

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

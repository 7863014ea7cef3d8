"""Filters that take a place: typed by any of its names, or picked from suggestions."""

import django_filters
from django import forms
from django.urls import reverse_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import CityName

CANDIDATES_SHOWN = 8


class PlaceNameField(forms.CharField):
    """A place typed by any of its names ("Lyon", "Muenchen", "Kiev") or by its slug
    (what links and the autocomplete send), cleaned to one published City.

    One match is used. An ambiguous name is an error that lists the candidates
    (`self.candidates`: [(label with subdivision and country, slug)], best match
    first, for the page to offer as links); an unknown one says so and offers the
    closest names. `self.typed_name` is True when a name, not a slug, chose the place,
    so the page can move the slug into its address.
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
            self.candidates = [(c.label(), c.slug) for c in best[:CANDIDATES_SHOWN]]
            count = len(best) if len(best) <= CANDIDATES_SHOWN else f"{CANDIDATES_SHOWN}+"
            raise forms.ValidationError(
                self.error_messages["ambiguous"],
                code="ambiguous",
                params={"name": value, "count": count},
            )
        closest = CityName.objects.closest(value)
        if closest:
            self.candidates = [(city.label(), city.slug) for _name, city in closest]
            raise forms.ValidationError(
                self.error_messages["unknown_suggest"],
                code="unknown",
                params={"name": value, "names": " or ".join(c.name for _n, c in closest)},
            )
        raise forms.ValidationError(
            self.error_messages["unknown"], code="unknown", params={"name": value}
        )


@extend_schema_field(OpenApiTypes.STR)  # for the API's schema: a name or a slug
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

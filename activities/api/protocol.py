"""How the API answers, whatever the record kind: JSON only, pages of results, the list
pages' filters, 400s that name the parameter, and throttling of anonymous clients.

Settings name these classes (REST_FRAMEWORK in citydiplo/settings.py).
"""

from functools import wraps

from django.conf import settings
from django.core.paginator import InvalidPage
from django.http import JsonResponse
from django_filters import rest_framework as filters
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.plumbing import build_array_type, build_basic_type, build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, pagination, throttling
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from citydiplo.filters import CountryFilter, SlugChoiceFilter

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
#: Parameters every list endpoint takes beside its FilterSet's.
STATE_PARAMS = ("page", "page_size", "format")


def bad_parameter(name, message):
    """A 400 whose JSON body names the parameter: {"page_size": ["..."]}."""
    return exceptions.ValidationError({name: [message]})


class JSONOnly(BaseContentNegotiation):
    """Every answer is JSON, whatever the Accept header says; `?format=` may only say
    json (the list pages' csv is a download, not an API format)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        fmt = request.query_params.get("format", "").strip().lower() or format_suffix
        if fmt and fmt != "json":
            raise bad_parameter(
                "format", "The API answers JSON only: leave format out or use json."
            )
        # The JSON renderer where a view offers several (the schema: YAML or JSON).
        renderer = next((r for r in renderers if r.format == "json"), renderers[0])
        return renderer, renderer.media_type

    def select_parser(self, request, parsers):
        return None


class CataloguePagination(pagination.PageNumberPagination):
    """`page` and `page_size` as on the list pages (50 a page, at most 500), except that
    a bad value is a 400 naming it rather than a page that guesses."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = request.query_params.get("page_size", "").strip()
        if not raw:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise bad_parameter("page_size", "Give a whole number from 1 to 500.") from None
        if not 1 <= size <= self.max_page_size:
            raise bad_parameter("page_size", "Give a whole number from 1 to 500.")
        return size

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, size)
        raw = request.query_params.get("page", "").strip() or "1"
        try:
            number = int(raw)
            self.page = paginator.page(number)
        except (ValueError, InvalidPage):
            raise bad_parameter(
                "page", f"Give a page number from 1 to {paginator.num_pages}."
            ) from None
        return list(self.page)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )


def printable(text):
    return all(char.isprintable() for char in text)


class ListPageFilterBackend(filters.DjangoFilterBackend):
    """The list page's FilterSet, fed the same cleaned parameters as the page.

    Blank values are dropped, as the page drops them; an unknown parameter or one with
    control characters is a 400 naming it (a page ignores them, but a script should
    learn that its `contry=FR` filtered nothing). django-filter's own validation errors
    are 400s naming their parameter too.
    """

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        data = request.query_params.copy()
        known = set(filterset_class.base_filters) | set(STATE_PARAMS)
        for name, values in request.query_params.lists():
            if name not in known:
                raise bad_parameter(
                    name[:40],
                    "Unknown parameter. This list takes: " + ", ".join(sorted(known)) + ".",
                )
            if not all(printable(value) for value in values):
                raise bad_parameter(name, "Control characters are not allowed.")
            data.setlist(name, [value for value in values if value.strip()])
        kwargs["data"] = data
        return kwargs


class AnonymousThrottle(throttling.AnonRateThrottle):
    """Anonymous clients: at most API_ANON_RATE requests (per address, counted in the
    cache). The rate is read at each request, so a test or a deployment can change it."""

    def get_rate(self):
        return settings.API_ANON_RATE

    def __init__(self):
        # The parent reads the rate in __init__ from class-level settings; read ours.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


def too_many(wait):
    wait = max(1, int(wait or 1))
    return (
        f"Too many requests: anonymous clients may make {settings.API_ANON_RATE}. "
        f"Try again in {wait} second{'s' if wait != 1 else ''}, or download the whole "
        "release from /data/."
    )


def exception_handler(exc, context):
    """DRF's handler, with a 429 that says what the limit is and when to come back."""
    if isinstance(exc, exceptions.Throttled):
        exc = exceptions.Throttled(wait=exc.wait, detail=too_many(exc.wait))
    return drf_exception_handler(exc, context)


def throttled(view):
    """`view` behind the anonymous limit, checked here rather than inside DRF: the page
    cache in front of the list and record endpoints answers repeated requests without
    reaching DRF, and they must count all the same."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        throttle = AnonymousThrottle()
        if not throttle.allow_request(request, None):
            wait = throttle.wait()
            response = JsonResponse({"detail": too_many(wait)}, status=429)
            response["Retry-After"] = str(max(1, int(wait or 1)))
            return response
        return view(request, *args, **kwargs)

    return wrapped


class ListPageFilterExtension(DjangoFilterExtension):
    """Documents the list pages' filters for drf-spectacular: a record chosen by slug
    is a string, a repeatable country code a list of strings, a choice the FilterSet
    interprets itself a string from its choices (the generic extension looks for them
    on the model, where they are not, and warns)."""

    target_class = "activities.api.protocol.ListPageFilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        if isinstance(filter_field, SlugChoiceFilter | CountryFilter):
            description = str(filter_field.label or field_name)
            if isinstance(filter_field, SlugChoiceFilter):
                description += ": a slug, such as paris-fr."
                schema = build_basic_type(OpenApiTypes.STR)
            else:
                description += ": ISO 3166 codes, repeatable (country=FR&country=DE)."
                schema = build_array_type(build_basic_type(OpenApiTypes.STR))
            return [
                build_parameter_type(
                    name=field_name,
                    location=OpenApiParameter.QUERY,
                    description=description,
                    schema=schema,
                    explode=isinstance(filter_field, CountryFilter) or None,
                )
            ]
        if isinstance(filter_field, filters.ChoiceFilter) and filter_field.method:
            # A choice the FilterSet interprets itself (`disputed=start`): its choices
            # say what it takes, whatever the model's fields are.
            choices = filter_field.extra.get("choices") or []
            choices = choices() if callable(choices) else choices
            schema = build_basic_type(OpenApiTypes.STR)
            schema["enum"] = [str(value) for value, _label in choices if value != ""]
            return [
                build_parameter_type(
                    name=field_name,
                    location=OpenApiParameter.QUERY,
                    description=str(filter_field.label or field_name),
                    schema=schema,
                )
            ]
        return super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )

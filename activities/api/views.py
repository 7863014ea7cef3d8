"""The API's views: one read-only viewset per kind of record, the index at /api/, and
the JSON answer of every record page."""

import re

from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from cities.models import City, OtherNames
from citydiplo.exports import CREDIT, LICENCE
from citydiplo.records import ReviewState

from .. import filters
from ..models import (
    Activity,
    Agreement,
    AgreementParty,
    Membership,
    Network,
    Source,
    Theme,
    Twinning,
)
from . import serializers
from .protocol import CataloguePagination, ListPageFilterBackend

KEY = re.compile(r"[-\w]{1,220}", re.ASCII)
MAX_ID = 2**63 - 1


THEMED = {"themes": ("slug", False), "sources": ("key", False)}

KEY_PARAMETER = OpenApiParameter(
    "key",
    str,
    OpenApiParameter.PATH,
    description="The record's slug (its source's key) or its numeric id.",
)


def attach_linked_keys(records, linked):
    """Set `<relation>_keys` on each record: the keys of its related records, one query
    per relation for the whole page (`values_list`, no model instances: on a page of 100
    twinnings, prefetch_related cost more than the rest of the request together).

    `linked`: {relation: (key field, published only)}.
    """
    if not records:
        return
    model = type(records[0])
    ids = [record.pk for record in records]
    for relation, (key, published_only) in linked.items():
        rows = model._default_manager.filter(pk__in=ids)
        if published_only:
            rows = rows.filter(**{f"{relation}__review_state": ReviewState.PUBLISHED})
        keys = {}
        for pk, value in rows.order_by("pk", f"{relation}__{key}").values_list(
            "pk", f"{relation}__{key}"
        ):
            if value is not None:
                keys.setdefault(pk, []).append(value)
        for record in records:
            setattr(record, f"{relation}_keys", keys.get(record.pk, []))


class CatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """Published records of one kind: a filtered, paged list, and one record by key.

    Without `ordering`, a list comes in id order: stable, and on the imported world
    many times cheaper than the list page's order by name, which sorts every row.
    """

    filter_backends = [ListPageFilterBackend]
    pagination_class = CataloguePagination
    throttle_classes = []  # throttled in front of the page cache (urls.py)
    lookup_url_kwarg = "key"
    lookup_value_regex = "[^/]+"
    #: The field a record is found by beside its id (None: by id only).
    key_field = "slug"
    #: Many-to-many links the representation lists: {relation: (key, published only)}.
    linked = {"sources": ("key", False)}

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "links": serializers.Links(self.request)}

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        attach_linked_keys(page, self.linked)
        return page

    def get_object(self):
        key = self.kwargs["key"]
        if not KEY.fullmatch(key):
            raise Http404("No record has this key.")
        lookup = Q(**{self.key_field: key}) if self.key_field else Q(pk__in=[])
        if key.isdigit() and int(key) <= MAX_ID:
            lookup |= Q(pk=int(key))
        found = list(self.get_queryset().filter(lookup)[:2])
        if not found:
            raise Http404("No published record has this key.")
        # A slug wins over an id that happens to be the same digits.
        record = next((r for r in found if getattr(r, self.key_field or "pk") == key), found[0])
        self.check_object_permissions(self.request, record)
        attach_linked_keys([record], self.linked)
        return record


def described(kind, plural):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List published {plural}",
            description=(
                f"Published {plural}, filtered by the same parameters as the list page, "
                "in a stable order, 50 a page (page_size up to 500)."
            ),
        ),
        retrieve=extend_schema(summary=f"One published {kind}", parameters=[KEY_PARAMETER]),
    )


@described("city", "cities and places")
class CityViewSet(CatalogueViewSet):
    serializer_class = serializers.CitySerializer
    filterset_class = filters.CityFilterSet

    def get_queryset(self):
        return City.objects.published().annotate(alternate_names=OtherNames()).order_by("pk")


@described("network", "networks")
class NetworkViewSet(CatalogueViewSet):
    serializer_class = serializers.NetworkSerializer
    filterset_class = filters.NetworkFilterSet
    linked = THEMED

    def get_queryset(self):
        return (
            Network.objects.published()
            .select_related("founding_place", "headquarters", "merged_into")
            .order_by("pk")
        )


@described("membership", "network memberships")
class MembershipViewSet(CatalogueViewSet):
    serializer_class = serializers.MembershipSerializer
    filterset_class = filters.MembershipFilterSet
    key_field = None

    def get_queryset(self):
        return Membership.objects.published().select_related("network", "city").order_by("pk")


@described("agreement", "agreements")
class AgreementViewSet(CatalogueViewSet):
    serializer_class = serializers.AgreementSerializer
    filterset_class = filters.AgreementFilterSet
    linked = THEMED

    def get_queryset(self):
        return Agreement.objects.published().select_related("place", "network").order_by("pk")


@described("agreement party", "agreement parties (a city's action on an agreement)")
class AgreementPartyViewSet(CatalogueViewSet):
    serializer_class = serializers.AgreementPartySerializer
    filterset_class = filters.AgreementPartyFilterSet
    key_field = None

    def get_queryset(self):
        return AgreementParty.objects.published().select_related("agreement", "city").order_by("pk")


@described("twinning", "twinnings")
class TwinningViewSet(CatalogueViewSet):
    serializer_class = serializers.TwinningSerializer
    filterset_class = filters.TwinningFilterSet
    key_field = None
    linked = THEMED

    def get_queryset(self):
        return Twinning.objects.published().select_related("city_a", "city_b").order_by("pk")


@described("activity", "activities")
class ActivityViewSet(CatalogueViewSet):
    serializer_class = serializers.ActivitySerializer
    filterset_class = filters.ActivityFilterSet
    linked = {**THEMED, "partner_cities": ("slug", True)}

    def get_queryset(self):
        return Activity.objects.published().select_related("lead_city", "place").order_by("pk")


@described("theme", "themes")
class ThemeViewSet(CatalogueViewSet):
    serializer_class = serializers.ThemeSerializer
    filterset_class = filters.ThemeFilterSet
    linked = {}

    def get_queryset(self):
        return Theme.objects.order_by("pk")


@described("source", "sources")
class SourceViewSet(CatalogueViewSet):
    serializer_class = serializers.SourceSerializer
    filterset_class = filters.SourceFilterSet
    key_field = "key"
    linked = {}

    def get_queryset(self):
        return Source.objects.cited().order_by("pk")


#: (URL prefix, viewset, route name), in the order /api/ lists them.
ENDPOINTS = [
    ("cities", CityViewSet, "city"),
    ("networks", NetworkViewSet, "network"),
    ("memberships", MembershipViewSet, "membership"),
    ("agreements", AgreementViewSet, "agreement"),
    ("agreement-parties", AgreementPartyViewSet, "agreement-party"),
    ("twinnings", TwinningViewSet, "twinning"),
    ("activities", ActivityViewSet, "activity"),
    ("themes", ThemeViewSet, "theme"),
    ("sources", SourceViewSet, "source"),
]


class IndexView(APIView):
    """The API's endpoints, its schema and documentation, and the data's licence."""

    @extend_schema(exclude=True)
    def get(self, request):
        base = request.build_absolute_uri("/")[:-1]
        return Response(
            {
                "endpoints": {
                    prefix: base + reverse(f"api:{name}-list") for prefix, _v, name in ENDPOINTS
                },
                "schema": base + reverse("api:schema"),
                "docs": base + reverse("api:docs"),
                "release": base + reverse("activities:data"),
                "licence": LICENCE,
                "credit": CREDIT,
            }
        )


def wants_json(request):
    """`?format=json`, or an Accept header that prefers JSON to HTML."""
    if request.GET.get("format", "").strip().lower() == "json":
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def with_json(page_view, viewset, url_kwarg):
    """A record page that answers JSON, the API's representation of the record, when
    asked for it; HTML otherwise. Both vary by Accept.

    The JSON is chosen before the page cache, which keys pages by address alone.
    """
    api_view = viewset.as_view({"get": "retrieve"})

    def view(request, *args, **kwargs):
        if wants_json(request):
            response = api_view(request, key=str(kwargs[url_kwarg]))
        else:
            response = page_view(request, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        return response

    return view

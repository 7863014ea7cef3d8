"""The API's views: one read-only viewset per kind of record, the index at /api/, and
the JSON answer of every record page."""

import re

from django.db.models import Prefetch, Q
from django.http import Http404
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from cities.models import City
from citydiplo.exports import CREDIT, LICENCE

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


def by_key():
    return Prefetch("sources", Source.objects.order_by("key").only("key"))


def slugs():
    return Theme.objects.only("slug")


KEY_PARAMETER = OpenApiParameter(
    "key",
    str,
    OpenApiParameter.PATH,
    description="The record's slug (its source's key) or its numeric id.",
)


class CatalogueViewSet(viewsets.ReadOnlyModelViewSet):
    """Published records of one kind: a filtered, paged list, and one record by key."""

    filter_backends = [ListPageFilterBackend]
    pagination_class = CataloguePagination
    lookup_url_kwarg = "key"
    lookup_value_regex = "[^/]+"
    #: The field a record is found by beside its id (None: by id only).
    key_field = "slug"

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "links": serializers.Links(self.request)}

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
        return City.objects.published().prefetch_related(by_key())


@described("network", "networks")
class NetworkViewSet(CatalogueViewSet):
    serializer_class = serializers.NetworkSerializer
    filterset_class = filters.NetworkFilterSet

    def get_queryset(self):
        return (
            Network.objects.published()
            .select_related("founding_place", "headquarters", "merged_into")
            .prefetch_related(Prefetch("themes", slugs()), by_key())
        )


@described("membership", "network memberships")
class MembershipViewSet(CatalogueViewSet):
    serializer_class = serializers.MembershipSerializer
    filterset_class = filters.MembershipFilterSet
    key_field = None

    def get_queryset(self):
        return (
            Membership.objects.published()
            .select_related("network", "city")
            .prefetch_related(by_key())
        )


@described("agreement", "agreements")
class AgreementViewSet(CatalogueViewSet):
    serializer_class = serializers.AgreementSerializer
    filterset_class = filters.AgreementFilterSet

    def get_queryset(self):
        return (
            Agreement.objects.published()
            .select_related("place", "network")
            .prefetch_related(Prefetch("themes", slugs()), by_key())
        )


@described("agreement party", "agreement parties (a city's action on an agreement)")
class AgreementPartyViewSet(CatalogueViewSet):
    serializer_class = serializers.AgreementPartySerializer
    filterset_class = filters.AgreementPartyFilterSet
    key_field = None

    def get_queryset(self):
        return (
            AgreementParty.objects.published()
            .select_related("agreement", "city")
            .prefetch_related(by_key())
        )


@described("twinning", "twinnings")
class TwinningViewSet(CatalogueViewSet):
    serializer_class = serializers.TwinningSerializer
    filterset_class = filters.TwinningFilterSet
    key_field = None

    def get_queryset(self):
        return (
            Twinning.objects.published()
            .select_related("city_a", "city_b")
            .prefetch_related(Prefetch("themes", slugs()), by_key())
        )


@described("activity", "activities")
class ActivityViewSet(CatalogueViewSet):
    serializer_class = serializers.ActivitySerializer
    filterset_class = filters.ActivityFilterSet

    def get_queryset(self):
        return (
            Activity.objects.published()
            .select_related("lead_city", "place")
            .prefetch_related(
                Prefetch(
                    "partner_cities",
                    City.objects.published().only("slug", "review_state"),
                    to_attr="published_partner_cities",
                ),
                Prefetch("themes", slugs()),
                by_key(),
            )
        )


@described("theme", "themes")
class ThemeViewSet(CatalogueViewSet):
    serializer_class = serializers.ThemeSerializer
    filterset_class = filters.ThemeFilterSet

    def get_queryset(self):
        return Theme.objects.all()


@described("source", "sources")
class SourceViewSet(CatalogueViewSet):
    serializer_class = serializers.SourceSerializer
    filterset_class = filters.SourceFilterSet
    key_field = "key"

    def get_queryset(self):
        return Source.objects.cited()


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

"""The API's representation of each kind of record: its own fields, its sources and its
related records as absolute API URLs, and the related lists as filtered list URLs.

A link to a draft is null, as on the pages (`public`). Links are built from a URL
shape reversed once per request and kind (`Links`): `reverse` costs about 22 us a call
on the project's VM, and a page of 100 twinnings has about 500 links (11 ms, a third of
the whole request rendered afresh; bench/api_release.py).
"""

from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cities.models import City
from citydiplo.records import public

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

PLACEHOLDER = "record-key-placeholder"
URL_LIST = {"type": "array", "items": {"type": "string", "format": "uri"}}


class Links:
    """Absolute URLs of API records and lists, and of record pages, for one request."""

    def __init__(self, request):
        self.base = request.build_absolute_uri("/")[:-1]
        self._records = {}
        self._lists = {}

    def record(self, kind, key):
        shape = self._records.get(kind)
        if shape is None:
            path = reverse(f"api:{kind}-detail", kwargs={"key": PLACEHOLDER})
            before, _found, after = path.partition(PLACEHOLDER)
            shape = self._records[kind] = (self.base + before, after)
        return f"{shape[0]}{key}{shape[1]}"

    def list(self, kind, **params):
        path = self._lists.get(kind)
        if path is None:
            path = self._lists[kind] = self.base + reverse(f"api:{kind}-list")
        return f"{path}?{urlencode(params)}" if params else path

    def page(self, record):
        return self.base + record.get_absolute_url()


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class RecordLink(serializers.Field):
    """The API URL of a related record (null when there is none or it is a draft)."""

    def __init__(self, kind, key="slug", **kwargs):
        self.kind, self.key = kind, key
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        record = public(value)
        if record is None:
            return None
        return self.context["links"].record(self.kind, getattr(record, self.key))


@extend_schema_field(OpenApiTypes.URI)
class SelfLink(RecordLink):
    """The record's own API URL."""

    def __init__(self, kind, key="slug", **kwargs):
        super().__init__(kind, key, source="*", **kwargs)


@extend_schema_field(URL_LIST)
class KeyLinks(serializers.Field):
    """API URLs of related records (a many-to-many link), from their keys, which the
    view reads for a whole page at once (`<relation>_keys`, drafts left out)."""

    def __init__(self, kind, relation, **kwargs):
        self.kind = kind
        super().__init__(source=f"{relation}_keys", read_only=True, **kwargs)

    def to_representation(self, keys):
        record = self.context["links"].record
        return [record(self.kind, key) for key in keys]


@extend_schema_field(OpenApiTypes.URI)
class RelatedList(serializers.Field):
    """The URL of an API list filtered to this record (`/api/twinnings/?city=paris-fr`)."""

    def __init__(self, kind, param, key="slug", **kwargs):
        self.kind, self.param, self.key = kind, param, key
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record):
        return self.context["links"].list(self.kind, **{self.param: getattr(record, self.key)})


@extend_schema_field(OpenApiTypes.URI)
class PageLink(serializers.Field):
    """The record's page on the site."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record):
        return self.context["links"].page(record)


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class Lines(serializers.Field):
    """A text field of one item a line, as a list."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return [line.strip() for line in value.splitlines() if line.strip()]


class Representation(serializers.ModelSerializer):
    """A read-only ModelSerializer whose rows are written by one plain loop over its
    fields (attribute path, then the field's to_representation), planned once per
    serializer instead of through DRF's per-field get_attribute machinery.

    bench/api_release.py: serializing 100 twinnings took 14.4 ms with DRF's loop and
    takes about half that with this one, on the project's 2-core VM under load; the
    rest of the request (count and page queries) is about as much again. The output is
    the same (tests/test_api.py compares the record pages' JSON with the API's).
    """

    def to_representation(self, instance):
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = self._plan = [
                (field.field_name, field.source_attrs, field.to_representation)
                for field in self._readable_fields
            ]
        row = {}
        for name, attrs, represent in plan:
            value = instance
            for attr in attrs:
                value = getattr(value, attr)
                if value is None:
                    break
            row[name] = None if value is None else represent(value)
        return row


def sources():
    return KeyLinks("source", "sources", help_text="The sources the record cites.")


def themes():
    return KeyLinks("theme", "themes", help_text="Its themes.")


class CitySerializer(Representation):
    api_url = SelfLink("city")
    page_url = PageLink()
    alternate_names = Lines()
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 alpha-2.")
    sources = sources()
    twinnings = RelatedList("twinning", "city", help_text="Its twinnings, either side.")
    memberships = RelatedList("membership", "city", help_text="Its network memberships.")
    agreement_parties = RelatedList(
        "agreement-party", "city", help_text="Its actions on agreements."
    )
    activities = RelatedList("activity", "city", help_text="Activities it leads or joins.")

    class Meta:
        model = City
        fields = [
            "id", "slug", "api_url", "page_url", "name", "alternate_names", "country",
            "subdivision", "kind", "is_capital", "population", "population_year", "latitude",
            "longitude", "geonames_id", "wikidata_id", "summary", "notes", "sources",
            "twinnings", "memberships", "agreement_parties", "activities", "updated_at",
        ]  # fmt: skip


class NetworkSerializer(Representation):
    api_url = SelfLink("network")
    page_url = PageLink()
    founding_place = RecordLink("city", allow_null=True)
    headquarters = RecordLink("city", allow_null=True)
    merged_into = RecordLink("network", allow_null=True)
    # A merger into a draft network is no closure the public sees (Network.is_active).
    closed_year = serializers.IntegerField(source="public_closed_year", allow_null=True)
    closed_on = serializers.DateField(source="public_closed_on", allow_null=True)
    themes = themes()
    sources = sources()
    members = RelatedList("membership", "network", help_text="Its memberships.")
    agreements = RelatedList("agreement", "network", help_text="Agreements it is behind.")

    class Meta:
        model = Network
        fields = [
            "id", "slug", "api_url", "page_url", "name", "acronym", "scope", "region_covered",
            "founded_year", "founded_on", "founded_precision", "founding_place", "headquarters",
            "closed_year", "closed_on", "closed_precision", "merged_into", "website", "summary",
            "member_count", "member_count_year", "notes", "themes", "sources", "members",
            "agreements", "updated_at",
        ]  # fmt: skip


class MembershipSerializer(Representation):
    api_url = SelfLink("membership", "pk")
    network = RecordLink("network")
    city = RecordLink("city")
    sources = sources()

    class Meta:
        model = Membership
        fields = [
            "id", "api_url", "network", "city", "role", "category", "joined_year", "left_year",
            "notes", "sources", "updated_at",
        ]  # fmt: skip


class AgreementSerializer(Representation):
    api_url = SelfLink("agreement")
    page_url = PageLink()
    place = RecordLink("city", allow_null=True)
    network = RecordLink("network", allow_null=True)
    themes = themes()
    sources = sources()
    parties = RelatedList("agreement-party", "agreement", help_text="Its parties' actions.")

    class Meta:
        model = Agreement
        fields = [
            "id", "slug", "api_url", "page_url", "title", "kind", "signed_year", "signed_on",
            "signed_precision", "place", "forum", "network", "status", "status_year",
            "status_on", "parties_reported", "parties_reported_year", "summary", "text_url",
            "notes", "themes", "sources", "parties",
            "updated_at",
        ]  # fmt: skip


class AgreementPartySerializer(Representation):
    api_url = SelfLink("agreement-party", "pk")
    agreement = RecordLink("agreement")
    city = RecordLink("city")
    sources = sources()

    class Meta:
        model = AgreementParty
        fields = [
            "id",
            "api_url",
            "agreement",
            "city",
            "action",
            "year",
            "date",
            "notes",
            "sources",
        ]


class TwinningSerializer(Representation):
    api_url = SelfLink("twinning", "pk")
    page_url = PageLink()
    city_a = RecordLink("city")
    city_b = RecordLink("city")
    themes = themes()
    sources = sources()

    class Meta:
        model = Twinning
        fields = [
            "id", "api_url", "page_url", "city_a", "city_b", "kind", "start_year", "start_on",
            "start_precision", "status", "status_year", "status_on", "status_reason",
            "status_act", "notes", "themes", "sources", "updated_at",
        ]  # fmt: skip


class ActivitySerializer(Representation):
    api_url = SelfLink("activity")
    page_url = PageLink()
    lead_city = RecordLink("city", allow_null=True)
    partner_cities = KeyLinks("city", "partner_cities", help_text="Published partner cities.")
    other_partners = Lines()
    place = RecordLink("city", allow_null=True)
    themes = themes()
    sources = sources()

    class Meta:
        model = Activity
        fields = [
            "id", "slug", "api_url", "page_url", "title", "kind", "lead_city", "partner_cities",
            "other_partners", "start_year", "start_on", "start_precision", "end_year", "end_on",
            "end_precision", "place", "summary", "budget", "budget_currency", "notes", "themes",
            "sources", "updated_at",
        ]  # fmt: skip


class ThemeSerializer(Representation):
    api_url = SelfLink("theme")
    page_url = PageLink()
    networks = RelatedList("network", "theme")
    agreements = RelatedList("agreement", "theme")
    activities = RelatedList("activity", "theme")

    class Meta:
        model = Theme
        fields = [
            "id", "slug", "api_url", "page_url", "name", "field", "description", "networks",
            "agreements", "activities",
        ]  # fmt: skip


class SourceSerializer(Representation):
    api_url = SelfLink("source", "key")
    url = serializers.URLField(help_text="The address of the cited page or dataset.")

    class Meta:
        model = Source
        fields = [
            "id", "key", "api_url", "title", "url", "publisher", "kind", "published_on",
            "accessed_on",
        ]  # fmt: skip

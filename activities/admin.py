from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Activity,
    Agreement,
    AgreementParty,
    Membership,
    Network,
    Source,
    Theme,
    Twinning,
)


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["title", "publisher", "kind", "url"]
    list_filter = ["kind"]
    search_fields = ["title", "publisher", "url", "key"]
    autocomplete_fields = ["cities"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "field"]
    list_filter = ["field"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ["city", "sources"]
    extra = 0


@admin.register(Network)
class NetworkAdmin(SimpleHistoryAdmin):
    list_display = ["name", "acronym", "scope", "founded_year", "closed_year", "review_state"]
    list_filter = ["review_state", "scope", "themes"]
    search_fields = ["name", "acronym"]
    autocomplete_fields = ["founding_place", "headquarters", "merged_into", "sources"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["city", "network", "role", "joined_year", "left_year", "review_state"]
    list_filter = ["review_state", "role", "network"]
    search_fields = ["city__name", "network__name", "network__acronym"]
    autocomplete_fields = ["city", "network", "sources"]
    list_select_related = ["city", "network"]


class AgreementPartyInline(admin.TabularInline):
    model = AgreementParty
    autocomplete_fields = ["city", "sources"]
    extra = 0


@admin.register(Agreement)
class AgreementAdmin(SimpleHistoryAdmin):
    list_display = ["title", "kind", "signed_year", "status", "review_state"]
    list_filter = ["review_state", "kind", "status"]
    search_fields = ["title", "forum"]
    autocomplete_fields = ["place", "network", "sources"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [AgreementPartyInline]


@admin.register(Twinning)
class TwinningAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "kind", "start_year", "status", "review_state"]
    list_filter = ["review_state", "kind", "status"]
    search_fields = ["city_a__name", "city_b__name"]
    autocomplete_fields = ["city_a", "city_b", "sources"]
    list_select_related = ["city_a", "city_b"]


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["title", "kind", "lead_city", "start_year", "end_year", "review_state"]
    list_filter = ["review_state", "kind"]
    search_fields = ["title", "summary"]
    autocomplete_fields = ["lead_city", "partner_cities", "place", "sources"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["lead_city"]

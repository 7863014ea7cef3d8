"""The city admin, on the catalogue's shared admin classes (citydiplo/admin.py)."""

from django.contrib import admin
from django.db.models import Q
from django.utils.text import smart_split, unescape_string_literal
from django_countries import countries

from citydiplo.admin import CatalogueAdminForm, ReviewAdmin

from .models import City, CityName
from .names import normalise


def country_codes_named(term):
    term = term.casefold()
    return [code for code, name in countries if term in str(name).casefold()]


class CityForm(CatalogueAdminForm):
    def make_slug(self, cleaned):
        country = str(cleaned.get("country") or "")
        return City.unique_slug(cleaned.get("name", ""), country, cleaned.get("subdivision", ""))


class CityNameInline(admin.TabularInline):
    """Every name the place goes by (its main name is kept by the city itself)."""

    model = CityName
    fields = ["name", "source"]
    readonly_fields = ["source"]
    extra = 1
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(source="main")


@admin.register(City)
class CityAdmin(ReviewAdmin):
    form = CityForm
    list_display = [
        "name",
        "country",
        "subdivision",
        "kind",
        "population",
        "is_capital",
        "review_state",
    ]
    list_filter = ["review_state", "kind", "is_capital", "country"]
    # get_search_results below also finds cities by country name.
    search_fields = ["name", "slug", "=country", "subdivision"]
    inlines = [CityNameInline]
    prepopulated_fields = {"slug": ["name", "country"]}
    ordering = ["name", "country"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        """Each word must match the name, an alternate name, the slug, the
        subdivision, the country code or the country's name."""
        for word in smart_split(search_term):
            if word[0] in "\"'" and word[0] == word[-1]:
                word = unescape_string_literal(word)
            if not word:
                continue
            match = (
                Q(name__icontains=word)
                | Q(pk__in=CityName.objects.matching(normalise(word)).values("city_id"))
                | Q(slug__icontains=word)
                | Q(subdivision__icontains=word)
                | Q(country__iexact=word)
            )
            codes = country_codes_named(word)
            if codes:
                match |= Q(country__in=codes)
            queryset = queryset.filter(match)
        return queryset, False

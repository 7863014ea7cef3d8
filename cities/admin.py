from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import City


@admin.register(City)
class CityAdmin(SimpleHistoryAdmin):
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
    search_fields = ["name", "alternate_names", "slug", "country"]
    prepopulated_fields = {"slug": ["name", "country"]}
    ordering = ["name"]

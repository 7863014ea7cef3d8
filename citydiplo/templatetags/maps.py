from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("includes/_map.html")
def leaflet_map(data_id, label, size=""):
    """The map container for the json_script element `data_id`; map.js draws it."""
    return {
        "data_id": data_id,
        "label": label,
        "size": size,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "outline_url": static("vendor/world-atlas/land-110m.geojson"),
    }


@register.inclusion_tag("includes/_list_map.html", takes_context=True)
def list_map(context):
    """The map of a filtered list, drawn by list-map.js from the list's own GeoJSON
    (`?<the same filters>&format=geojson`), fetched only when the reader opens it."""
    request = context["request"]
    query = request.GET.copy()
    for name in ("format", "page", "page_size", "ordering"):
        query.pop(name, None)
    query["format"] = "geojson"
    return {
        "result_count": context.get("result_count"),
        "map_data_url": f"{request.path}?{query.urlencode()}",
        "map_city_url": reverse("cities:city-detail", kwargs={"slug": "__slug__"}),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }

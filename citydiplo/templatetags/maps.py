from django import template
from django.conf import settings
from django.templatetags.static import static

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

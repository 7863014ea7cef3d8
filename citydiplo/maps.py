"""Marker and line data for the Leaflet maps: passed to static/js/map.js by json_script on
detail pages, and as GeoJSON (`?format=geojson`) for the maps of filtered lists."""

import json

from django.http import StreamingHttpResponse
from django.utils import timezone


def point(city, *, focus=False, url=None):
    """A marker for a located city, or None when GeoNames gave it no coordinates;
    `url`: its address, when the caller has it already."""
    if not city.is_located:
        return None
    return {
        "lat": float(city.latitude),
        "lng": float(city.longitude),
        "name": str(city),
        "url": url or city.get_absolute_url(),
        "focus": focus,
    }


def map_data(cities, *, focus=None, link_focus=False, urls=None):
    """{"points": [...], "link_focus": bool} for the cities that have coordinates.

    With `focus`, that city is drawn larger and, with `link_focus`, map.js links it by a
    line to every other city (a city's twins, a twinning's two sides). `urls`: {city pk:
    address} the page has already worked out, so no link is reversed twice.
    """
    urls = urls or {}
    points, seen = [], set()
    focus_point = point(focus, focus=True) if focus is not None else None
    if focus_point:
        points.append(focus_point)
        seen.add(focus.pk)
    for city in cities:
        if city.pk in seen:
            continue
        seen.add(city.pk)
        marker = point(city, url=urls.get(city.pk))
        if marker is None:
            continue
        points.append(marker)
    return {"points": points, "link_focus": bool(focus_point and link_focus)}


def compact_points(rows, url_template):
    """The home page's many markers as [lat, lng, name, slug] rows (about 40 bytes each);
    map.js builds each link from `url_template` by replacing `__slug__`."""
    return {
        "compact": [[float(lat), float(lng), name, slug] for name, slug, lat, lng in rows],
        "url_template": url_template,
    }


def geojson_response(features, *, name):
    """A streamed GeoJSON FeatureCollection (RFC 7946: [longitude, latitude]) of the
    given features, for the maps of filtered lists and for GIS tools."""

    def chunks():
        yield '{"type": "FeatureCollection", "features": ['
        for number, feature in enumerate(features):
            yield ("," if number else "") + "\n" + json.dumps(feature, ensure_ascii=False)
        yield "\n]}\n"

    response = StreamingHttpResponse(chunks(), content_type="application/geo+json")
    filename = f"citydiplo-{name}-{timezone.localdate():%Y-%m-%d}.geojson"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def point_feature(longitude, latitude, properties):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(longitude), float(latitude)]},
        "properties": properties,
    }


def line_feature(start, end, properties):
    """A line between two (longitude, latitude) pairs, the short way round the globe."""
    (lng_a, lat_a), (lng_b, lat_b) = ((float(x), float(y)) for x, y in (start, end))
    if lng_b - lng_a > 180:
        lng_b -= 360
    elif lng_a - lng_b > 180:
        lng_b += 360
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[lng_a, lat_a], [lng_b, lat_b]]},
        "properties": properties,
    }

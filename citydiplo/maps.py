"""Marker and line data for the Leaflet maps, passed to static/js/map.js by json_script."""


def point(city, *, focus=False):
    """A marker for a located city, or None when GeoNames gave it no coordinates."""
    if not city.is_located:
        return None
    return {
        "lat": float(city.latitude),
        "lng": float(city.longitude),
        "name": str(city),
        "url": city.get_absolute_url(),
        "focus": focus,
    }


def map_data(cities, *, focus=None, link_focus=False):
    """{"points": [...], "link_focus": bool} for the cities that have coordinates.

    With `focus`, that city is drawn larger and, with `link_focus`, map.js links it by a
    line to every other city (a city's twins, a twinning's two sides).
    """
    points, seen = [], set()
    focus_point = point(focus, focus=True) if focus is not None else None
    if focus_point:
        points.append(focus_point)
        seen.add(focus.pk)
    for city in cities:
        if city.pk in seen:
            continue
        seen.add(city.pk)
        marker = point(city)
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

"""Values every page's layout needs."""

from .listing import printable


def site_search(request):
    """The header search box's value: the query's `q`, without control characters."""
    return {"site_search_q": printable(request.GET.get("q", "")).strip()}

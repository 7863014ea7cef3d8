from django.apps import AppConfig


class CitydiploConfig(AppConfig):
    """The project's shared web machinery (list pages, facets, downloads, the page cache,
    the catalogue version) and its template tags."""

    name = "citydiplo"
    verbose_name = "CityDiplo"

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CitydiploConfig(AppConfig):
    """The project's shared web machinery (list pages, facets, downloads, the page cache,
    the catalogue version) and its template tags."""

    name = "citydiplo"
    verbose_name = "CityDiplo"

    def ready(self):
        from .versioning import install_after_migrate

        post_migrate.connect(install_after_migrate, dispatch_uid="citydiplo_version_triggers")

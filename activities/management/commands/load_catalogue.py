import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from activities.history import record_changes
from activities.loading import CatalogueLoader, refresh_planner_statistics
from cities.models import City, CityName, NameSource


def load_city_names(path):
    """Add the GeoNames names of fixtures/city_names.json ({slug: [names]}) that the
    cities lack; returns how many were added."""
    with open(path, encoding="utf-8") as handle:
        names = json.load(handle)
    ids = dict(City.objects.filter(slug__in=list(names)).values_list("slug", "pk"))
    pairs = [(ids[slug], name) for slug, others in names.items() if slug in ids for name in others]
    return len(CityName.objects.add(pairs, NameSource.GEONAMES))


class Command(BaseCommand):
    help = (
        "Load the curated catalogue (fixtures/catalogue.json): new records are created, "
        "existing ones updated in place. Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixture", default=str(settings.BASE_DIR / "fixtures" / "catalogue.json")
        )

    def handle(self, *args, fixture, **options):
        try:
            with transaction.atomic():
                counts = CatalogueLoader.from_file(fixture).load()
                CityName.objects.sync_main_names(City.objects.all())
                names = Path(fixture).with_name("city_names.json")
                if names.exists():
                    counts["other names of cities"] = (load_city_names(names), 0)
                # The loader writes in bulk, without history: record what it changed.
                record_changes("load_catalogue")
            refresh_planner_statistics()
        except (OSError, ValueError, DatabaseError) as exc:
            raise CommandError(f"Nothing loaded from {fixture}: {exc}") from exc
        summary = ", ".join(
            f"{name}: {new} new, {old} updated" for name, (new, old) in counts.items()
        )
        self.stdout.write(self.style.SUCCESS(f"Loaded the catalogue. {summary}."))

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from activities.catalogue import CatalogueError, catalogue_objects, city_names
from activities.history import record_changes
from activities.loading import CatalogueLoader, refresh_planner_statistics
from cities.models import City, CityName, NameSource


def load_city_names(names):
    """Add the names of `names` ({city slug: [names]}) that the cities lack; returns
    how many were added."""
    ids = dict(City.objects.filter(slug__in=list(names)).values_list("slug", "pk"))
    pairs = [(ids[slug], name) for slug, others in names.items() if slug in ids for name in others]
    return len(CityName.objects.add(pairs, NameSource.GEONAMES))


class Command(BaseCommand):
    # The system checks import every URLconf and view (0.7 s CPU); `make run` runs them
    # in `migrate` and `runserver` around this command.
    requires_system_checks = []
    help = (
        "Load the curated catalogue, built from the CSV files under fixtures/ (or a built "
        "JSON file with --fixture): new records are created; existing ones are updated "
        "only if nobody changed them since the last load, others are kept and listed. "
        "Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--fixture", help="A built catalogue (JSON) instead of fixtures/.")

    def handle(self, *args, fixture, **options):
        where = fixture or "fixtures/"
        try:
            names = {}
            if fixture:
                loader = CatalogueLoader.from_file(fixture)
            else:
                objects = catalogue_objects()
                loader = CatalogueLoader(objects)
                names = city_names(objects)
            with transaction.atomic():
                counts = loader.load()
                # Bulk writes leave the cities' main names to set; then GeoNames' names.
                CityName.objects.sync_main_names(City.objects.all())
                counts["other names of cities"] = (load_city_names(names), 0, 0)
                # The loader writes in bulk, without history: record what it changed.
                record_changes("load_catalogue")
            refresh_planner_statistics()
        except CatalogueError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"Nothing loaded: {len(exc.errors)} error(s) in {where}.") from exc
        except (OSError, ValueError, DatabaseError) as exc:
            raise CommandError(f"Nothing loaded from {where}: {exc}") from exc
        summary = ", ".join(
            f"{name}: {new} new, {old} updated" + (f", {kept} kept" if kept else "")
            for name, (new, old, kept) in counts.items()
        )
        self.stdout.write(self.style.SUCCESS(f"Loaded the catalogue. {summary}."))
        if loader.kept:
            self.stdout.write(
                self.style.WARNING(
                    f"Kept {len(loader.kept)} record(s) changed since the last load "
                    "(not overwritten; edit them in the admin if the fixtures are right):"
                )
            )
            for kept in loader.kept:
                self.stdout.write(f"- {kept}")

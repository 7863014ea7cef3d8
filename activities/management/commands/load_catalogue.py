from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from activities.history import record_changes
from activities.loading import CatalogueLoader, refresh_planner_statistics


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
                # The loader writes in bulk, without history: record what it changed.
                record_changes("load_catalogue")
            refresh_planner_statistics()
        except (OSError, ValueError, DatabaseError) as exc:
            raise CommandError(f"Nothing loaded from {fixture}: {exc}") from exc
        summary = ", ".join(
            f"{name}: {new} new, {old} updated" for name, (new, old) in counts.items()
        )
        self.stdout.write(self.style.SUCCESS(f"Loaded the catalogue. {summary}."))

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from activities.loading import CatalogueLoader


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
            counts = CatalogueLoader.from_file(fixture).load()
        except (OSError, ValueError, DatabaseError) as exc:
            raise CommandError(f"Nothing loaded from {fixture}: {exc}") from exc
        summary = ", ".join(
            f"{name}: {new} new, {old} updated" for name, (new, old) in counts.items()
        )
        self.stdout.write(self.style.SUCCESS(f"Loaded the catalogue. {summary}."))

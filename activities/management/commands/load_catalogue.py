from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from activities.history import record_changes


class Command(BaseCommand):
    help = "Load the curated catalogue (fixtures/catalogue.json). Running it twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixture", default=str(settings.BASE_DIR / "fixtures" / "catalogue.json")
        )

    def handle(self, *args, fixture, **options):
        try:
            with transaction.atomic():
                call_command("loaddata", fixture, verbosity=options["verbosity"])
                # loaddata saves raw, without history: record what it changed.
                record_changes("load_catalogue")
        except Exception as exc:
            raise CommandError(f"Could not load {fixture}: {exc}") from exc

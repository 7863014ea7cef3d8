from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Load a file written by `backup` into a migrated database, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            with transaction.atomic():
                call_command("loaddata", path, verbosity=0)
        except Exception as exc:
            raise CommandError(f"Nothing restored: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {path}."))

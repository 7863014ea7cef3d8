from django.core.management.base import BaseCommand, CommandError

from activities.backup import restore


class Command(BaseCommand):
    help = "Load a file written by `backup` into an empty, migrated database: all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            count = restore(path)
        except Exception as exc:  # any failure rolls the whole restore back
            raise CommandError(f"Nothing restored: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {count} rows from {path}."))

from django.core.management.base import BaseCommand

from activities.backup import dump


class Command(BaseCommand):
    help = (
        "Write the whole database (catalogue, users, groups, edit history, admin log) "
        "to a JSON file (.json.gz compresses); `restore` reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Output file, e.g. backups/citydiplo.json.gz")

    def handle(self, *args, path, **options):
        count = dump(path)
        self.stdout.write(self.style.SUCCESS(f"Backed up {count} rows to {path}."))

from django.core.management import call_command
from django.core.management.base import BaseCommand

# Rebuilt on restore by `migrate`, or not worth keeping.
EXCLUDED = ["contenttypes", "auth.permission", "sessions", "axes"]


class Command(BaseCommand):
    help = (
        "Write the whole database (catalogue, users, groups, edit history) to a JSON "
        "file (.json.gz compresses); `restore` reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Output file, e.g. backups/citydiplo.json.gz")

    def handle(self, *args, path, **options):
        # Primary keys are kept: history rows refer to records by id. Foreign keys to
        # content types and permissions go by natural key, as their ids differ by database.
        call_command(
            "dumpdata",
            natural_foreign=True,
            exclude=EXCLUDED,
            output=path,
            verbosity=0,
        )
        self.stdout.write(self.style.SUCCESS(f"Backed up to {path}."))

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from activities.catalogue import Builder, CatalogueError, write_fixture
from cities.gazetteer import IdGazetteer


class Command(BaseCommand):
    help = (
        "Check the curated CSV files under fixtures/ with the models' rules, taking "
        "coordinates and population from GeoNames. Writes nothing unless --output is "
        "given: load_catalogue builds from the same files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--root", default=str(settings.BASE_DIR / "fixtures"))
        parser.add_argument("--output", help="Also write the built fixture to this JSON file.")

    def handle(self, *args, root, output, **options):
        builder = Builder(root=Path(root), gazetteer=IdGazetteer())
        try:
            objects = builder.build()
        except CatalogueError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"{len(exc.errors)} error(s) in the curated files.") from None
        if output:
            write_fixture(objects, output)
        counts = {}
        for obj in objects:
            counts[obj["model"]] = counts.get(obj["model"], 0) + 1
        summary = ", ".join(f"{n} {model.split('.')[1]}" for model, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"The catalogue builds: {summary}."))

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from activities.catalogue import Builder, CatalogueError, write_fixture
from cities.gazetteer import Gazetteer

NAMES_FILE = "city_names.json"


def city_names(objects, gazetteer):
    """{city slug: [its other names in GeoNames]} for the catalogue's cities."""
    return {
        obj["fields"]["slug"]: names
        for obj in objects
        if obj["model"] == "cities.city" and obj["fields"].get("geonames_id")
        for names in [gazetteer.other_names(obj["fields"]["geonames_id"])]
        if names
    }


class Command(BaseCommand):
    help = (
        "Check the curated CSV files under fixtures/ and build fixtures/catalogue.json "
        "from them, taking coordinates and population from GeoNames."
    )

    def add_arguments(self, parser):
        parser.add_argument("--root", default=str(settings.BASE_DIR / "fixtures"))
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail if catalogue.json is not what the CSV files build (for CI).",
        )

    def handle(self, *args, root, check, **options):
        root = Path(root)
        builder = Builder(root=root, gazetteer=Gazetteer())
        try:
            objects = builder.build()
        except CatalogueError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"{len(exc.errors)} error(s): catalogue.json not written.") from None
        target = root / "catalogue.json"
        names = city_names(objects, builder.gazetteer)
        names_target = root / NAMES_FILE
        if check:
            for written, path in ((objects, target), (names, names_target)):
                tmp = root / f".{path.name}.check"
                write_fixture(written, tmp)
                same = path.exists() and tmp.read_bytes() == path.read_bytes()
                tmp.unlink()
                if not same:
                    raise CommandError(
                        f"{path.name} is stale: run `python manage.py build_catalogue`."
                    )
            self.stdout.write("catalogue.json and city_names.json are up to date.")
            return
        write_fixture(objects, target)
        write_fixture(names, names_target)
        counts = {}
        for obj in objects:
            counts[obj["model"]] = counts.get(obj["model"], 0) + 1
        summary = ", ".join(f"{n} {model.split('.')[1]}" for model, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Wrote {target}: {summary}."))
        count = sum(len(other) for other in names.values())
        self.stdout.write(self.style.SUCCESS(f"Wrote {names_target}: {count} other names."))

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from activities.catalogue import CatalogueError, catalogue_objects
from activities.history import record_changes
from activities.loading import CatalogueLoader, refresh_planner_statistics


class Command(BaseCommand):
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
            if fixture:
                loader = CatalogueLoader.from_file(fixture)
            else:
                loader = CatalogueLoader(catalogue_objects())
            with transaction.atomic():
                counts = loader.load()
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

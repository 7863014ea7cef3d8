import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from activities.importing import COLUMNS, BadFile, TwinningImport, read_rows, write_report
from activities.loading import refresh_planner_statistics
from cities.gazetteer import Gazetteer


class Command(BaseCommand):
    help = (
        "Import twin-town pairs from a CSV file (columns city1,country1,city2,country2): "
        "resolve countries and places against GeoNames, create the missing cities and "
        "the twinnings, citing one source. Running it twice creates nothing the second time."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="UTF-8 CSV file of pairs.")
        for column in COLUMNS:
            parser.add_argument(
                f"--{column}-column",
                default=column,
                dest=f"{column}_column",
                help=f"Name of the {column} column (default: {column}).",
            )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Resolve and report, write nothing (no report file unless --report is given).",
        )
        parser.add_argument(
            "--report",
            help="CSV report of rows not imported and places not located "
            "(default: reports/import_twinnings-unresolved.csv).",
        )
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, path, dry_run, report, batch_size, **options):
        started = time.monotonic()
        self.verbosity = options["verbosity"]
        columns = [options[f"{column}_column"] for column in COLUMNS]
        try:
            rows = read_rows(path, columns)
        except BadFile as exc:
            raise CommandError(str(exc)) from exc
        self.progress(f"Read {len(rows):,} rows from {path}; loading GeoNames...")
        gazetteer = self.gazetteer()
        importer = TwinningImport(gazetteer, batch_size=batch_size, progress=self.progress)
        outcome = importer.run(rows, dry_run=dry_run)
        if not dry_run:
            refresh_planner_statistics()
        report_path = None
        if report or not dry_run:
            default = Path(settings.BASE_DIR) / "reports" / "import_twinnings-unresolved.csv"
            report_path = write_report(outcome, report or default)
        self.summarise(outcome, report_path, dry_run, time.monotonic() - started)

    def gazetteer(self):
        """GeoNames' finest cut-off, loaded once per run (tests may override this)."""
        return Gazetteer(min_population=500)

    def progress(self, message):
        if self.verbosity >= 1:
            self.stdout.write(message)
            self.stdout.flush()

    def summarise(self, outcome, report_path, dry_run, seconds):
        verb = "would be created" if dry_run else "created"
        lines = [
            "Dry run: nothing written." if dry_run else "Import finished.",
            f"Rows read: {outcome.rows_read:,}",
            f"Distinct pairs (spellings folded): {outcome.distinct_pairs:,}",
            f"Pairs {verb}: {outcome.pairs_created:,}",
            f"Pairs already present: {outcome.already_present:,} "
            f"(source added to {outcome.source_added:,})",
            f"Rows unresolved: {outcome.rows_rejected:,}"
            + (
                " (" + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.rejected.items())) + ")"
                if outcome.rejected
                else ""
            ),
            f"Cities reused: {outcome.cities_reused:,}; {verb}: {outcome.cities_created:,} "
            f"(not located: {outcome.places_unlocated:,}; placed at the city they belong "
            f"to: {outcome.places_approximate:,})",
            f"Imported: {outcome.percent_imported:.2f}% of distinct pairs; both places "
            f"geolocated: {outcome.percent_located:.2f}% "
            f"({outcome.percent_located_exactly:.2f}% both at their own GeoNames place)",
        ]
        if outcome.unknown_countries:
            unknown = ", ".join(f"{k!r} ({v})" for k, v in outcome.unknown_countries.most_common())
            lines.append(f"Countries not recognised: {unknown}")
        if report_path:
            lines.append(f"Report of unresolved rows and unlocated places: {report_path}")
        lines.append(f"Time: {seconds:.1f} s")
        self.stdout.write("\n".join(lines))

"""python manage.py release [OUTDIR]: the published catalogue as a citable Frictionless
Data Package (activities/release.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from activities import release


class Command(BaseCommand):
    help = (
        "Write the published catalogue as a Frictionless Data Package: one CSV per kind "
        "of record and relation, datapackage.json, SHA256SUMS and a zip. Without OUTDIR, "
        "into RELEASE_DIR/<version>/, where the /data/ page offers the latest."
    )

    def add_arguments(self, parser):
        parser.add_argument("outdir", nargs="?", help="Folder to write (created if needed).")
        parser.add_argument(
            "--release-version",
            dest="release_version",
            help="Version name (default: today's date).",
        )

    def handle(self, *args, outdir=None, release_version=None, **options):
        if release_version and not release.VERSION_PATTERN.fullmatch(release_version):
            raise CommandError("--release-version must be a date, YYYY-MM-DD.")
        started = time.perf_counter()
        if outdir is None:
            from django.utils import timezone

            release_version = release_version or timezone.now().date().isoformat()
            outdir = release.release_root() / release_version
        descriptor = release.build(outdir, release_version)
        rows = sum(resource["rows"] for resource in descriptor["resources"])
        self.stdout.write(
            f"Release {descriptor['version']}: {len(descriptor['resources'])} tables, "
            f"{rows:,} rows, written to {outdir} in {time.perf_counter() - started:.1f} s."
        )
        for resource in descriptor["resources"]:
            self.stdout.write(f"  {resource['path']:<32} {resource['rows']:>8,} rows")

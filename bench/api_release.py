"""The API, the downloads and the release on the imported world, measured in process.

    .venv/bin/python bench/api_release.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/api_release.py --database sqlite --repeat 30

For each database: a fresh database (SQLite in a temporary folder; PostgreSQL as
citydiplo_i15_bench on 127.0.0.1:5432, dropped afterwards), `migrate`, `load_catalogue`
and `import_twinnings` of the 26,000 Wikipedia pairs. Then, in one process with
production settings (DEBUG=0, anonymous throttle raised out of the way), Django's test
client requests each API page REPEAT times after 3 warm-ups and prints the median and
90th percentile of wall time, rendered afresh (PAGE_CACHE off) and as shipped (the page
cache answers the repeats), and the median CPU time of this process (which holds
SQLite's work but not PostgreSQL's: on a shared machine the CPU time is the steadier
figure); times the first chunk and the whole of two streamed downloads; builds
the release (`activities.release.build`) and validates it with frictionless.

Targets (issue 15): an API list of 100 twinnings under 30 ms at the median; downloads
stream; the release of the imported world under 60 s.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATA = next(
    (p / "shared/data/twin_cities_wikipedia.csv" for p in ROOT.parents if (p / "shared").is_dir()),
    ROOT.parent / "shared/data/twin_cities_wikipedia.csv",
)
PG_NAME = "citydiplo_i15_bench"
#: Each API page twice: rendered afresh (PAGE_CACHE off, what the first request after an
#: edit costs), and as shipped (the page cache answers the repeated request).
MODES = ("(rendered)", "(cached)")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare(database, tmp):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "API_ANON_RATE": "1000000/minute",
        "STATIC_ROOT": str(tmp / "static"),
    }
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_NAME])
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
        env["DATABASE_URL"] = PG_URL
    manage(env, "migrate", "-v0")
    manage(env, "load_catalogue", "-v0")
    manage(env, "import_twinnings", str(DATA), "-v0", "--report", str(tmp / "report.csv"))
    if database == "postgres":
        analyze = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", PG_NAME, "-qc", "ANALYZE"]
        subprocess.run(analyze, check=True)
    manage(env, "collectstatic", "--noinput", "-v0")
    return env


def measure(repeat, tmp):
    """Runs inside the prepared environment (django set up by the caller)."""
    from django.test import Client

    from activities import release
    from activities.models import Twinning
    from cities.models import City

    client = Client()
    print(
        f"published twinnings: {Twinning.objects.published().count():,}, "
        f"cities: {City.objects.published().count():,}"
    )
    big = City.objects.published().order_by("-population").values_list("slug", flat=True).first()
    pages = [
        ("API: 100 twinnings", "/api/twinnings/?page_size=100"),
        ("API: 100 twinnings touching DE", "/api/twinnings/?country=DE&page_size=100"),
        ("API: 100 twinnings, page 200", "/api/twinnings/?page_size=100&page=200"),
        ("API: 100 cities", "/api/cities/?page_size=100"),
        ("API: 100 memberships", "/api/memberships/?page_size=100"),
        ("API: one city", f"/api/cities/{big}/"),
        ("city page as JSON", f"/cities/{big}/?format=json"),
    ]
    print(f"\nload average before: {os.getloadavg()[0]:.1f} (2 cores: above 2, wall times stretch)")
    print(
        f"{'request':<45} {'median ms':>10} {'p90 ms':>8} {'CPU median ms':>14}"
        f"  (n={repeat}, 3 warm-ups)"
    )
    from django.conf import settings

    for label, url in [(f"{label} {mode}", url) for label, url in pages for mode in MODES]:
        settings.PAGE_CACHE = label.endswith(MODES[1])
        times, cpu = [], []
        for i in range(repeat + 3):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            used = (time.process_time() - started_cpu) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if i >= 3:
                times.append(elapsed)
                cpu.append(used)
        times.sort()
        p90 = times[int(0.9 * (len(times) - 1))]
        print(
            f"{label:<45} {statistics.median(times):>10.1f} {p90:>8.1f} "
            f"{statistics.median(cpu):>14.1f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    settings.PAGE_CACHE = True

    print(f"\n{'download':<34} {'streamed':>8} {'first chunk ms':>15} {'total s':>8} {'MB':>6}")
    for label, url in [
        ("all twinnings, CSV", "/twinnings/?format=csv"),
        ("all twinnings, JSON", "/twinnings/?format=json"),
        ("all memberships, CSV", "/memberships/?format=csv"),
        ("all cities, CSV", "/cities/?format=csv"),
    ]:
        started = time.perf_counter()
        response = client.get(url)
        chunks = iter(response.streaming_content)
        size = len(next(chunks))
        first = (time.perf_counter() - started) * 1000
        size += sum(len(chunk) for chunk in chunks)
        total = time.perf_counter() - started
        print(
            f"{label:<34} {str(response.streaming):>8} {first:>15.0f} {total:>8.2f} "
            f"{size / 1e6:>6.1f}"
        )

    started = time.perf_counter()
    descriptor = release.build(tmp / "release")
    built = time.perf_counter() - started
    rows = sum(r["rows"] for r in descriptor["resources"])
    size = sum(r["bytes"] for r in descriptor["resources"])
    print(
        f"\nrelease: {len(descriptor['resources'])} tables, {rows:,} rows, {size / 1e6:.1f} MB "
        f"of CSV, built with zip and checksums in {built:.1f} s"
    )
    try:
        from frictionless import Package
    except ImportError:
        print("frictionless not installed: validation skipped")
        return
    started = time.perf_counter()
    report = Package(str(tmp / "release" / "datapackage.json")).validate()
    print(
        f"frictionless validation: {'valid' if report.valid else 'INVALID'} in "
        f"{time.perf_counter() - started:.1f} s"
    )
    if not report.valid:
        print(report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:10])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the inner run: its temp folder
    args = parser.parse_args()
    if args.measure:
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydiplo.settings")
        import django

        django.setup()
        measure(args.repeat, Path(args.measure))
        return
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for database in databases:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            print(f"== {database}: migrate, load_catalogue, import_twinnings")
            env = prepare(database, tmp)
            print(f"== {database}: measuring")
            subprocess.run(
                [PYTHON, __file__, "--measure", str(tmp), "--repeat", str(args.repeat)],
                cwd=ROOT,
                env=env,
                check=True,
            )
        if database == "postgres":
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_NAME])


if __name__ == "__main__":
    main()

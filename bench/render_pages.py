"""Every bench page rendered afresh, in process: what a page-cache miss costs.

    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/render_pages.py --prepare
    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/render_pages.py
    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/render_pages.py --grow 10

`--prepare` builds the imported world in the (empty) database: `migrate`,
`load_catalogue`, `import_twinnings` of the Wikipedia pairs. `--grow N` then adds
synthetic twinnings between existing published cities until there are N times the
twinnings there were (random pairs, weighted by population, unique in either order;
kind, status and start year drawn from the imported ones), and ANALYZEs (VACUUM
ANALYZE on PostgreSQL). `--analyze` does only the latter, e.g. after a migration.

Then each page is requested through Django's test client (middleware, URL routing,
templates: everything but the network) with DEBUG off and PAGE_CACHE=0, every cache
cleared before each request, `--repeat` times; it prints the median and the fastest
milliseconds, and for the CSV download its rows per second. Only ratios measured in one
run on one machine mean anything.

`--explain` prints, for each measured page, every query it ran with its time and the
database's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL), slowest
first; `--profile` prints the functions where Python spent most of a request's time
(cProfile): where a page's time goes, as django-debug-toolbar would show it.
"""

import argparse
import functools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = next(
    (p / "shared/data/twin_cities_wikipedia.csv" for p in ROOT.parents if (p / "shared").is_dir()),
    ROOT.parent / "shared/data/twin_cities_wikipedia.csv",
)


def manage(*args):
    env = {**os.environ, "DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare():
    manage("migrate", "-v0")
    manage("load_catalogue", "-v0")
    started = time.monotonic()
    manage("import_twinnings", str(DATA), "-v0", "--report", os.devnull)
    print(f"import_twinnings: {time.monotonic() - started:.1f} s")


STATIC_DIR = tempfile.TemporaryDirectory(prefix="citydiplo-bench-static-")


def setup_django():
    os.environ.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        PAGE_CACHE="0",
        # Each run its own folder: two runs collecting into one folder at once (two
        # checkouts benched side by side) broke each other's compressed files.
        STATIC_ROOT=STATIC_DIR.name,
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydiplo.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", "--noinput", verbosity=0)


def analyze():
    """Fresh planner statistics; on PostgreSQL a VACUUM too, as autovacuum would soon do
    after a bulk insert (it sets the visibility map, without which no index-only scan
    skips the table)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def grow(factor, seed=13):
    """Add synthetic published twinnings until there are `factor` times as many."""
    from django.db import transaction

    from activities.models import Twinning
    from cities.models import City

    existing = Twinning.objects.count()
    target = existing * factor
    cities = list(City.objects.published().values_list("pk", "population", "country", "name"))
    ids = [pk for pk, _population, _country, _name in cities]
    weights = [max(population or 0, 1000) for _pk, population, _country, _name in cities]
    country = {pk: code for pk, _population, code, _name in cities}
    name = {pk: name for pk, _population, _code, name in cities}
    pairs = {tuple(sorted(pair)) for pair in Twinning.objects.values_list("city_a", "city_b")}
    shapes = list(
        Twinning.objects.values_list("kind", "status", "start_year", "status_year")[:5000]
    )
    rng = random.Random(seed)
    started = time.monotonic()
    new = []
    while len(pairs) < target:
        for a, b in zip(
            rng.choices(ids, weights, k=10_000), rng.choices(ids, weights, k=10_000), strict=True
        ):
            pair = (a, b) if a < b else (b, a)
            if a == b or pair in pairs:
                continue
            pairs.add(pair)
            kind, status, start_year, status_year = rng.choice(shapes)
            new.append(
                Twinning(
                    city_a_id=pair[0],
                    city_b_id=pair[1],
                    name_a=name[pair[0]],
                    name_b=name[pair[1]],
                    country_a=country[pair[0]],
                    country_b=country[pair[1]],
                    kind=kind,
                    status=status,
                    start_year=start_year,
                    status_year=status_year,
                )
            )
            if len(pairs) >= target:
                break
    with transaction.atomic():
        Twinning.objects.bulk_create(new, batch_size=2000)
    analyze()
    print(
        f"grew twinnings from {existing:,} to {Twinning.objects.count():,} "
        f"({len(new):,} synthetic) in {time.monotonic() - started:.1f} s"
    )


def pages():
    """(label, path) of every page the bench measures."""
    from django.db.models import Count

    from activities.models import Twinning
    from cities.models import City

    busiest = (
        City.objects.published()
        .annotate(n=Count("twinnings_as_a", distinct=True) + Count("twinnings_as_b", distinct=True))
        .order_by("-n", "pk")
        .first()
    )
    twinned = Twinning.objects.count()
    return [
        ("home", "/"),
        ("cities", "/cities/"),
        ("cities ?region=europe", "/cities/?region=europe"),
        ("cities ?country=DE", "/cities/?country=DE"),
        ("cities by twinnings", "/cities/?ordering=-twinnings"),
        ("twinnings", "/twinnings/"),
        ("twinnings ?country=DE", "/twinnings/?country=DE"),
        ("twinnings ?region=asia", "/twinnings/?region=asia"),
        ("twinnings ?country=DE&status=active", "/twinnings/?country=DE&status=active"),
        ("networks", "/networks/"),
        ("agreements", "/agreements/"),
        ("activities", "/activities/"),
        ("memberships", "/memberships/"),
        (f"city: most twinned ({busiest.name})", busiest.get_absolute_url()),
        ("search lyon", "/search/?q=lyon"),
        ("CSV twinnings ?country=DE", "/twinnings/?country=DE&format=csv"),
        ("CSV cities ?region=europe", "/cities/?region=europe&format=csv"),
    ], twinned


@functools.cache
def client():
    """One test client for the whole run, its middleware loaded by a first request: a new
    client loads the middleware again on its first request, and WhiteNoise then lists
    every static file (0.2 to 0.4 s that no page of a running server pays)."""
    from django.test import Client

    browser = Client(SERVER_NAME="localhost")
    browser.get("/healthz")
    return browser


def measure(path, repeat):
    from django.core.cache import cache

    times, rows = [], 0
    for _ in range(repeat):
        cache.clear()
        started = time.perf_counter()
        response = client().get(path)
        assert response.status_code == 200, (path, response.status_code)
        if response.streaming:
            body = b"".join(response.streaming_content)
            rows = body.count(b"\n") - 1
        else:
            body = response.content
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000, rows


def explain(path, top=8):
    """Each query of one fresh request with its plan, slowest first.

    Each query is run again alone and timed to its last row: SQLite computes rows as
    they are fetched, so the time of `execute` alone says little.
    """
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client().get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    timed = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            started = time.perf_counter()
            cursor.execute(query["sql"])
            rows = len(cursor.fetchall()) if cursor.description else 0
            timed.append((time.perf_counter() - started, rows, query["sql"]))
    timed.sort(reverse=True)
    total = sum(seconds for seconds, _rows, _sql in timed)
    print(f"  {len(timed)} queries, {total * 1000:.0f} ms in the database (each run alone)")
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    for seconds, rows, sql in timed[:top]:
        print(f"  {seconds * 1000:8.1f} ms {rows:>6} rows  {sql[:600]}")
        if sql.startswith("DECLARE"):  # a streamed download's server-side cursor
            sql = sql.split(" CURSOR WITH HOLD FOR ", 1)[-1]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            for row in cursor.fetchall():
                print("             " + " | ".join(str(cell) for cell in row))


def profile(path, top=25):
    """Where Python spends one fresh request's time (cProfile, by cumulative time)."""
    import cProfile
    import pstats

    from django.core.cache import cache

    browser = client()
    cache.clear()
    profiler = cProfile.Profile()
    profiler.enable()
    response = browser.get(path)
    if response.streaming:
        b"".join(response.streaming_content)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    # The project's own functions and the template engine, by time spent inside them.
    stats.sort_stats("cumulative").print_stats(r"/(citydiplo|activities|cities|template)/", top)


def serve(measured, twinnings):
    """The pages as one JSON line, then for each path read from standard input one fresh
    request: its milliseconds and rows, as a JSON line (bench/compare_pages.py)."""
    from django.db import connection

    print(json.dumps({"vendor": connection.vendor, "twinnings": twinnings, "pages": measured}))
    sys.stdout.flush()
    for line in sys.stdin:
        _median, best, rows = measure(line.strip(), 1)
        print(json.dumps({"ms": best, "rows": rows}), flush=True)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prepare", action="store_true", help="build the imported world first")
    parser.add_argument("--grow", type=int, default=0, help="grow twinnings N-fold first")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="measure pages whose label contains this")
    parser.add_argument("--analyze", action="store_true", help="refresh the statistics first")
    parser.add_argument("--explain", action="store_true", help="print each query and its plan")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each page")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="for bench/compare_pages.py: print the pages as JSON, then time each path "
        "read from standard input once",
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to the database to measure (it may be modified).")
    if args.prepare:
        prepare()
    setup_django()
    from django.db import connection

    if args.grow:
        grow(args.grow)
    elif args.analyze:
        analyze()
    measured, twinnings = pages()
    if args.serve:
        serve(measured, twinnings)
        return
    print(
        f"{connection.vendor}, {twinnings:,} twinnings; PAGE_CACHE=0, caches cleared before "
        f"each request; median and fastest of {args.repeat}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'page':<44}{'median ms':>10}{'best ms':>9}{'rows/s':>10}")
    for label, path in measured:
        if args.only not in label:
            continue
        median, best, rows = measure(path, args.repeat)
        rate = f"{rows / (median / 1000):,.0f}" if rows else ""
        print(f"{label:<44}{median:>10.1f}{best:>9.1f}{rate:>10}", flush=True)
        if args.explain:
            explain(path)
        if args.profile:
            profile(path)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""Every bench page rendered afresh, in process: what a page-cache miss costs.

    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/render_pages.py --prepare
    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/render_pages.py
    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/render_pages.py --grow 10

`--prepare` builds the imported world in the (empty) database: `migrate`,
`load_catalogue`, `import_twinnings` of the Wikipedia pairs. `--grow N` then adds
synthetic twinnings between existing published cities until there are N times the
twinnings there were (random pairs, weighted by population, unique in either order;
kind, status and start year drawn from the imported ones), and ANALYZEs.

Then each page is requested through Django's test client (middleware, URL routing,
templates: everything but the network) with DEBUG off and PAGE_CACHE=0, every cache
cleared before each request, `--repeat` times; it prints the median and the fastest
milliseconds, and for the CSV download its rows per second. Only ratios measured in one
run on one machine mean anything.
"""

import argparse
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


def setup_django():
    os.environ.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        PAGE_CACHE="0",
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / "citydiplo-bench-static"),
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydiplo.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", "--noinput", verbosity=0)


def analyze():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


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
        (f"city: most twinned ({busiest.name})", busiest.get_absolute_url()),
        ("search lyon", "/search/?q=lyon"),
        ("CSV twinnings ?country=DE", "/twinnings/?country=DE&format=csv"),
        ("CSV cities ?region=europe", "/cities/?region=europe&format=csv"),
    ], twinned


def measure(path, repeat):
    from django.core.cache import cache
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    times, rows = [], 0
    for _ in range(repeat):
        cache.clear()
        started = time.perf_counter()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if response.streaming:
            body = b"".join(response.streaming_content)
            rows = body.count(b"\n") - 1
        else:
            body = response.content
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000, rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prepare", action="store_true", help="build the imported world first")
    parser.add_argument("--grow", type=int, default=0, help="grow twinnings N-fold first")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="measure pages whose label contains this")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to the database to measure (it may be modified).")
    if args.prepare:
        prepare()
    setup_django()
    from django.db import connection

    if args.grow:
        grow(args.grow)
    measured, twinnings = pages()
    print(
        f"{connection.vendor}, {twinnings:,} twinnings; PAGE_CACHE=0, caches cleared before "
        f"each request; median and fastest of {args.repeat}"
    )
    print(f"{'page':<44}{'median ms':>10}{'best ms':>9}{'rows/s':>10}")
    for label, path in measured:
        if args.only not in label:
            continue
        median, best, rows = measure(path, args.repeat)
        rate = f"{rows / (median / 1000):,.0f}" if rows else ""
        print(f"{label:<44}{median:>10.1f}{best:>9.1f}{rate:>10}", flush=True)


if __name__ == "__main__":
    main()

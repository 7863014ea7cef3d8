"""The analysis page and the graph exports on the imported world, in process.

    .venv/bin/python bench/analysis.py                      # fresh SQLite world in a temp dir
    .venv/bin/python bench/analysis.py --database-url postgres://postgres@127.0.0.1:5432/x

Builds the world (migrate, load_catalogue, import_twinnings of the Wikipedia pairs)
unless --reuse is given, then with PAGE_CACHE=0 measures with Django's test client:
- /analysis/ the first time after a write (centrality computed: the cost a cache miss
  pays once per catalogue version and filter), and then rendered afresh with the
  centrality already computed (median of --runs);
- the same for a filtered analysis (?country=DE);
- the GEXF and GraphML of all published twinnings (one GET each, median of --runs).
Targets (issue 16): /analysis/ rendered afresh under 500 ms; the GEXF of all 24,300
twinnings under 3 s.
"""

import argparse
import os
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


def build(env):
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["load_catalogue"],
        ["import_twinnings", str(DATA)],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def timed(client, url, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, HTTP_HOST="localhost")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    return times


def measure(runs):
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citydiplo.settings")
    django.setup()
    from django.core.cache import cache
    from django.test import Client

    from activities.models import Twinning

    client = Client()
    total = Twinning.objects.published().count()
    print(f"published twinnings: {total:,}")
    for url in ("/analysis/", "/analysis/?country=DE"):
        cache.clear()
        (first,) = timed(client, url, 1)
        afresh = statistics.median(timed(client, url, runs))
        print(
            f"{url:28} first after a write {first * 1000:8.0f} ms   "
            f"afresh, centrality computed: median {afresh * 1000:6.0f} ms"
        )
    for fmt in ("gexf", "graphml"):
        url = f"/twinnings/?format={fmt}"
        median = statistics.median(timed(client, url, runs))
        print(f"{url:28} all {total:,} twinnings: median {median:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--reuse", action="store_true", help="the database is already built")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/world.sqlite3"
        env = {**os.environ, "DEBUG": "1", "DATABASE_URL": url, "PAGE_CACHE": "0"}
        if not args.reuse:
            build(env)
        subprocess.run(
            [sys.executable, __file__, "--measure", "--runs", str(args.runs)],
            cwd=ROOT,
            env=env,
            check=True,
        )


if __name__ == "__main__":
    main()

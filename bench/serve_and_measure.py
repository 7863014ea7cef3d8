"""CityDiplo against Datasette on the same data: import, serve, measure with wrk.

    .venv/bin/python bench/serve_and_measure.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/serve_and_measure.py --database sqlite --duration 5

For each database: a fresh database, `migrate`, `load_catalogue` and `import_twinnings`
of the 26,000 Wikipedia pairs (timed), `collectstatic`, gunicorn on loopback with
DEBUG=0, twice: with the page cache (the default) and without it (PAGE_CACHE=0: every
page rendered afresh). Then wrk (-c CONNECTIONS
-d DURATION) on the filtered lists, a city with 50+ partners, search and the CSV export
of all twinnings, after one timed download of each page (on a fresh server: no
cache warm) and an uncounted warm-up run (WARM_UP_SECONDS). Datasette serves the same
SQLite file (loopback only, read-only) and wrk measures its equivalent pages in the
same run (datasette_pages: the same rows, count and facets), and the pages this bench
compared with until 30 November 2026 (datasette_earlier_pages). Prints a table with
the ratios; only ratios from one run on one machine mean anything.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from production_env import gunicorn_options, gunicorn_serving, production_env

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# shared/ sits beside the checkout (or beside the folder holding a worktree).
DATA = next(
    (p / "shared/data/twin_cities_wikipedia.csv" for p in ROOT.parents if (p / "shared").is_dir()),
    ROOT.parent / "shared/data/twin_cities_wikipedia.csv",
)
PG_NAME = "citydiplo_bench"
#: Before each measured wrk run, one of this many seconds that is not counted: every
#: gunicorn worker's first request of a page (templates compiled, country names and URL
#: patterns loaded) took 0.5 to 2 s, a fifth of a 5 s run's CPU on the slower pages.
#: Datasette gets the same.
WARM_UP_SECONDS = 2
EARLIER = "datasette, earlier pages"
DATASETTE = ("datasette", EARLIER)
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"

PICK = """
from django.db.models import Count
from cities.models import City
from cities.regions import countries_in
city = (
    City.objects.published()
    .annotate(n=Count("twinnings_as_a", distinct=True) + Count("twinnings_as_b", distinct=True))
    .filter(n__gte=50).order_by("n").first()
)
print("PICK", city.pk, city.slug, city.get_absolute_url(), city.name.split()[0].lower(),
      ",".join(countries_in("europe")))
"""


def run(args, env, capture=False):
    return subprocess.run(
        args, cwd=ROOT, env=env, check=True, capture_output=capture, text=True
    ).stdout


def manage(env, *args, capture=False):
    return run([PYTHON, "manage.py", *args], env, capture=capture)


def wait_until_up(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


def timed_get(url):
    """(seconds, bytes, content type) of one full download."""
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
        kind = response.headers.get("Content-Type", "")
    return time.monotonic() - started, len(body), kind


def wrk(url, args):
    """requests/s, p50 ms, p99 ms and non-2xx count of wrk on one URL."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--timeout",
            "30s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def millis(label):
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(rps[1]) if rps else 0.0,
        "p50": millis("50%"),
        "p99": millis("99%"),
        "errors": int(errors[1]) if errors else 0,
    }


def server(command, env, log):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def prepare(database, tmp, env):
    """A fresh database with the catalogue and the import; the import's seconds."""
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        drop = ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_NAME]
        subprocess.run(drop, check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_NAME], check=True)
        env["DATABASE_URL"] = PG_URL
    manage(env, "migrate", "-v0")
    manage(env, "load_catalogue", "-v0")
    started = time.monotonic()
    out = manage(
        env, "import_twinnings", str(DATA), "-v0", "--report", str(tmp / "r.csv"), capture=True
    )
    seconds = time.monotonic() - started
    print(out)
    if database == "postgres":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", PG_NAME, "-qc", "ANALYZE"]
        )
    pick = next(
        line
        for line in manage(env, "shell", "-c", PICK, capture=True).splitlines()
        if line.startswith("PICK")
    )
    _, pk, slug, url, word, europe = pick.split()
    return seconds, {"pk": pk, "slug": slug, "url": url, "word": word, "europe": europe}


def our_pages(pick):
    return {
        "twinnings ?country=DE": "/twinnings/?country=DE",
        "cities ?region=europe": "/cities/?region=europe",
        "city with 50+ partners": pick["url"],
        "search": f"/search/?q={pick['word']}",
        "CSV export, all twinnings": "/twinnings/?format=csv",
    }


def datasette_pages(pick):
    """The same pages asked of Datasette (database 'bench'): the same rows (50, in the same
    order), the total count and the same facets, as Datasette's table pages give them
    (`_facet`; `_nosuggest=1`, since our pages suggest no other facets), and, for the
    city, its twinnings table (the rows its page lists) with the count."""
    twinnings_de = [
        ("_where", "country_a = 'DE' or country_b = 'DE'"),
        ("review_state", "published"),
        ("_sort", "name_a"),
        ("_size", "50"),
        *(("_facet", name) for name in ("country_a", "country_b", "kind", "status")),
        ("_nosuggest", "1"),
    ]
    europe = [
        ("country__in", pick["europe"]),
        ("review_state", "published"),
        ("_size", "50"),
        *(("_facet", name) for name in ("country", "kind", "is_capital")),
        ("_nosuggest", "1"),
    ]
    city_twinnings = [
        ("_where", f"city_a_id = {int(pick['pk'])} or city_b_id = {int(pick['pk'])}"),
        ("review_state", "published"),
        ("_size", "100"),
        ("_nosuggest", "1"),
    ]
    return {
        "twinnings ?country=DE": "/bench/activities_twinning?"
        + urllib.parse.urlencode(twinnings_de),
        "cities ?region=europe": "/bench/cities_city?" + urllib.parse.urlencode(europe),
        "city with 50+ partners": "/bench/activities_twinning?"
        + urllib.parse.urlencode(city_twinnings),
        "search": f"/bench/cities_city?name__contains={pick['word']}&_size=50&_nosuggest=1",
        "CSV export, all twinnings": "/bench/activities_twinning.csv?_stream=on&_labels=on",
    }


def datasette_earlier_pages(pick):
    """The Datasette pages this bench compared with until 30 November 2026, kept for
    comparison: for Germany's twinnings a bare SQL query (50 rows, no count, no
    facets); for the European cities and search, table pages with Datasette's
    suggested facets (which cost it more than the page itself); for the city, its row
    page (its columns and the number of rows linking to it from each table)."""
    twinnings_de = (
        "select t.id, a.name as city_a, a.country as country_a, b.name as city_b,"
        " b.country as country_b, t.kind, t.start_year, t.status"
        " from activities_twinning t join cities_city a on a.id = t.city_a_id"
        " join cities_city b on b.id = t.city_b_id"
        " where t.review_state = 'published' and (a.country = 'DE' or b.country = 'DE')"
        " order by a.name, b.name limit 50"
    )
    return {
        "twinnings ?country=DE": "/bench?" + urllib.parse.urlencode({"sql": twinnings_de}),
        "cities ?region=europe": f"/bench/cities_city?country__in={pick['europe']}&_size=50",
        "city with 50+ partners": f"/bench/cities_city/{pick['pk']}",
        "search": f"/bench/cities_city?name__contains={pick['word']}&_size=50",
    }


def measure(base, pages, args):
    results = {}
    warm_up = argparse.Namespace(**{**vars(args), "duration": WARM_UP_SECONDS})
    for label, path in pages.items():
        seconds, size, kind = timed_get(base + path)
        wrk(base + path, warm_up)  # not counted: see WARM_UP_SECONDS
        stats = wrk(base + path, args)
        stats.update(download_s=seconds, bytes=size, type=kind.split(";")[0])
        results[label] = stats
        print(f"  {label:<28} {stats['rps']:>8.1f} req/s  {kind.split(';')[0]}  {size:,} bytes")
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--datasette-port", type=int, default=8105)
    args = parser.parse_args()
    serving = gunicorn_serving(args)
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {tool}")
    datasette = Path(PYTHON).with_name("datasette")
    if not datasette.exists():
        sys.exit("datasette is missing: pip install '.[bench]'")

    tmp = Path(tempfile.mkdtemp(prefix="citydiplo-bench-"))
    base_env = production_env(tmp / "static")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    imports, results = {}, {}
    log = (tmp / "servers.log").open("w")
    try:
        for database in databases:
            env = dict(base_env)
            print(f"== {database}: migrate, load_catalogue, import_twinnings")
            imports[database], pick = prepare(database, tmp, env)
            manage(env, "collectstatic", "--noinput", "-v0")
            for page_cache in (True, False):
                label = database if page_cache else f"{database}, no page cache"
                served_env = {**env, "PAGE_CACHE": "1" if page_cache else "0"}
                gunicorn = server(
                    [
                        PYTHON,
                        "-m",
                        "gunicorn",
                        "citydiplo.wsgi",
                        "--bind",
                        f"127.0.0.1:{args.port}",
                        *gunicorn_options(args),
                        "--access-logfile",
                        "/dev/null",
                    ],
                    served_env,
                    log,
                )
                try:
                    base = f"http://127.0.0.1:{args.port}"
                    wait_until_up(base + "/healthz")
                    print(f"== {label}: CityDiplo under gunicorn ({serving})")
                    results[label] = measure(base, our_pages(pick), args)
                finally:
                    stop(gunicorn)
            if database == "sqlite":
                ds = server(
                    [
                        str(datasette),
                        "serve",
                        "--immutable",
                        str(tmp / "bench.sqlite3"),
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(args.datasette_port),
                        "--setting",
                        "sql_time_limit_ms",
                        "20000",
                        "--setting",
                        "max_csv_mb",
                        "0",
                    ],
                    base_env,
                    log,
                )
                try:
                    base = f"http://127.0.0.1:{args.datasette_port}"
                    wait_until_up(base + "/-/versions.json")
                    print("== Datasette on the same SQLite file")
                    results["datasette"] = measure(base, datasette_pages(pick), args)
                    print("== Datasette, the pages compared until 30 November 2026")
                    results[EARLIER] = measure(base, datasette_earlier_pages(pick), args)
                finally:
                    stop(ds)
    finally:
        log.close()
        if "postgres" in databases:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_NAME])
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\nwrk -t2 -c{args.connections} -d{args.duration}s per page; gunicorn "
        f"{serving}; {os.cpu_count()} cores. Ratios hold for this run only.\n"
    )
    for database, seconds in imports.items():
        print(f"import_twinnings on {database}: {seconds:.1f} s (wall, including GeoNames load)")
    header = (
        f"\n{'page':<28}{'server':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'one GET s':>10}{'non-2xx':>8}{'x Datasette':>12}{'x earlier':>10}  type"
    )
    print(header)
    print("-" * len(header))
    for label in our_pages({"url": "", "word": "", "pk": "", "europe": ""}):
        reference = results.get("datasette", {}).get(label)
        earlier = results.get(EARLIER, {}).get(label)
        for name, pages in results.items():
            if label not in pages:
                continue
            s = pages[label]
            ratios = [
                f"{s['rps'] / ref['rps']:.2f}"
                if ref and ref["rps"] and name not in DATASETTE
                else "-"
                for ref in (reference, earlier)
            ]
            print(
                f"{label:<28}{name:<24}{s['rps']:>9.1f}{s['p50']:>9.1f}{s['p99']:>9.1f}"
                f"{s['download_s']:>10.2f}{s['errors']:>8}{ratios[0]:>12}{ratios[1]:>10}"
                f"  {s['type']}"
            )


if __name__ == "__main__":
    main()

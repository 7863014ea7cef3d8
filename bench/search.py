"""Site search and the place autocomplete on the imported world, rendered afresh.

    .venv/bin/python bench/search.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/search.py --database sqlite --reuse

For each database: a fresh database, `migrate`, `load_catalogue` and `import_twinnings`
of the Wikipedia pairs (as bench/serve_and_measure.py builds it; `--reuse` keeps a
database an earlier run built). Then, in one process with production settings and the
page cache off (PAGE_CACHE=0: every page rendered afresh), Django's test client asks
`/search/?q=...` for names, exonyms, transliterations, abbreviations, prefixes, other
kinds and a misspelling (which renders "Did you mean ...?"), and the autocomplete
for what a person types into a place filter; `/about/` is measured first, as the scale
of the machine's speed at the time (a loaded machine slows every row alike). Each URL
is asked once to warm up, then RUNS times; the table gives each URL's median and the
median of all, in wall-clock time and in this process's CPU time (on a machine shared
with other work, the CPU time is the cost of the page itself; with SQLite it includes
the database's work, with PostgreSQL not the server's). Targets: search under 30 ms,
autocomplete under 15 ms, at the median.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from production_env import production_env

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATA = next(
    (p / "shared/data/twin_cities_wikipedia.csv" for p in ROOT.parents if (p / "shared").is_dir()),
    ROOT.parent / "shared/data/twin_cities_wikipedia.csv",
)
SQLITE_PATH = Path(tempfile.gettempdir()) / "citydiplo_search_bench.sqlite3"

SEARCHES = [
    "Kiev",
    "Muenchen",
    "Köln",
    "Bombay",
    "new york",
    "saint petersburg",
    "St Petersburg",
    "Lyon",
    "Springfield",
    "berlin",
    "san",
    "Portland Maine",
    "peace",
    "C40",
    "Kyyiv",
]
AUTOCOMPLETE = ["ly", "lyo", "mun", "kiev", "new y", "springf", "sankt", "bomb"]

MEASURE = """
import re, statistics, time
from urllib.parse import urlencode
from django.test import Client
from cities.models import City, CityName

client = Client()
RUNS = {runs}


def timed(url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    return statistics.median(times), statistics.median(cpu), response


print(f"ROWS cities={{City.objects.count()}} names={{CityName.objects.count()}}")
for kind, path, queries in (
    ("reference", "/about/", [""]),
    ("search", "/search/", {searches!r}),
    ("autocomplete", "/cities/autocomplete/", {autocomplete!r}),
):
    medians, cpu_medians = [], []
    for query in queries:
        median, cpu, response = timed(path + "?" + urlencode({{"q": query}}))
        medians.append(median)
        cpu_medians.append(cpu)
        if kind == "reference":
            found = "a page without queries, for scale: the machine's speed now"
        elif kind == "search":
            top = City.objects.published().search(query).first()
            found = f"first city {{top.label() if top else '-'}}"
            html = response.content.decode()
            if "Did you mean" in html:
                text = re.sub(r"<[^>]+>", "", html.split("Did you mean", 1)[1])
                found += "; did you mean " + text.split("?", 1)[0].strip() + "?"
        else:
            results = response.json()["results"]
            found = f"{{len(results)}} places, first {{results[0]['label'] if results else '-'}}"
        print(f"ROW {{kind}}|{{query}}|{{median:.1f}}|{{cpu:.1f}}|{{found}}")
    all_wall, all_cpu = statistics.median(medians), statistics.median(cpu_medians)
    print(f"ROW {{kind}}|(median of all)|{{all_wall:.1f}}|{{all_cpu:.1f}}|")
"""


def manage(env, *args, capture=False):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    ).stdout


def prepare(database, env, pg_name, reuse):
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
        if reuse and SQLITE_PATH.exists():
            return
        SQLITE_PATH.unlink(missing_ok=True)
    else:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
        exists = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", pg_name, "-qtc", "SELECT 1"],
            capture_output=True,
        )
        if reuse and exists.returncode == 0:
            return
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", pg_name], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_name], check=True)
    build_env = {**env, "DEBUG": "1"}
    manage(build_env, "migrate", "-v0")
    manage(build_env, "load_catalogue", "-v0")
    report = Path(tempfile.gettempdir()) / "citydiplo_search_bench_report.csv"
    manage(build_env, "import_twinnings", str(DATA), "-v0", "--report", str(report), capture=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep a database built before")
    parser.add_argument(
        "--pg-name", default=os.environ.get("BENCH_PG_NAME", "citydiplo_search_bench")
    )
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory() as static_root:
        for database in databases:
            env = {
                **production_env(static_root),
                "ALLOWED_HOSTS": "testserver",
                "PAGE_CACHE": "0",
            }
            print(f"== {database}: building the imported world", flush=True)
            prepare(database, env, args.pg_name, args.reuse)
            manage(env, "collectstatic", "--noinput", "-v0")
            script = MEASURE.format(runs=args.runs, searches=SEARCHES, autocomplete=AUTOCOMPLETE)
            out = manage(env, "shell", "-c", script, capture=True)
            print(f"{'kind':<13} {'query':<18} {'wall ms':>8} {'CPU ms':>7}  what it found")
            for line in out.splitlines():
                if line.startswith("ROWS"):
                    print(line[5:])
                elif line.startswith("ROW "):
                    kind, query, median, cpu, found = line[4:].split("|", 4)
                    print(f"{kind:<13} {query:<18} {median:>8} {cpu:>7}  {found}")


if __name__ == "__main__":
    main()

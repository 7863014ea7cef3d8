"""Load test: gunicorn with production settings under wrk, on SQLite and PostgreSQL.

    .venv/bin/python bench/load.py                  # both databases, 60 s, 32 connections
    .venv/bin/python bench/load.py --database sqlite --duration 10

For each database: a fresh database with the curated catalogue (add --with-wikipedia
to import the 26,000 Wikipedia twinnings first), `collectstatic`, gunicorn on loopback
with DEBUG=0, then wrk drives a mix of list, filtered list, detail, search and export
pages. Passes (exit 0) only with zero socket errors and zero 5xx responses. Numbers are
for comparing runs on one machine, not absolute truths.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from production_env import gunicorn_options, gunicorn_serving, production_env

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_URL = "postgres://postgres@127.0.0.1:5432/citydiplo_loadtest"


def run(args, env, **kwargs):
    subprocess.run(args, cwd=ROOT, env=env, check=True, **kwargs)


def manage(env, *args):
    run([PYTHON, "manage.py", *args], env)


def pick_paths(env):
    """Real URLs from the loaded data: a list, filters, details, search, exports."""
    code = (
        "from cities.models import City\n"
        "from activities.models import Network, Twinning\n"
        "from django.db.models import Count\n"
        "c = City.objects.published().annotate(n=Count('twinnings_as_a', distinct=True)"
        " + Count('twinnings_as_b', distinct=True)).order_by('-n').first()\n"
        "for record in (c, Network.objects.published().first(), Twinning.objects.first()):\n"
        "    print(record.get_absolute_url() if record else '/')\n"
    )
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-3:]
    city_url, network_url, twinning_url = out
    return [
        "/",
        "/cities/",
        "/cities/?region=europe&ordering=-population",
        "/twinnings/",
        "/twinnings/?country=DE",
        "/networks/",
        "/agreements/",
        "/activities/",
        city_url,
        network_url,
        twinning_url,
        "/search/?q=berlin",
        "/search/?q=peace",
        "/twinnings/?country=FR&format=csv",
        "/networks/?format=json",
    ]


def wait_until_up(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def measure(database, args):
    tmp = Path(tempfile.mkdtemp(prefix="citydiplo-load-"))
    env = production_env(tmp / "static")
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'load.sqlite3'}"
    else:
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "citydiplo_loadtest"],
            check=True,
        )
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", "citydiplo_loadtest"], check=True
        )
        env["DATABASE_URL"] = PG_URL
    manage(env, "migrate", "-v0")
    manage(env, "load_catalogue", "-v0")
    if args.with_wikipedia:
        manage(env, "import_twinnings", str(ROOT.parent / "shared/data/twin_cities_wikipedia.csv"))
    manage(env, "collectstatic", "--noinput", "-v0")
    paths = pick_paths(env)
    port = args.port
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "citydiplo.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            *gunicorn_options(args),
            "--graceful-timeout",
            "5",
            "--access-logfile",
            "-" if args.verbose else "/dev/null",
            "--error-logfile",
            str(tmp / "gunicorn.log"),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        result = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(args.connections),
                "-d",
                f"{args.duration}s",
                "--timeout",
                "30s",
                "-s",
                str(ROOT / "bench/mixed.lua"),
                f"http://127.0.0.1:{port}",
            ],
            env={**os.environ, "PATHS": "\n".join(paths)},
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # workers still streaming a large download
            server.kill()
            server.wait()
        if database == "postgres":
            subprocess.run(
                ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "citydiplo_loadtest"]
            )
        shutil.rmtree(tmp, ignore_errors=True)
    match = re.search(r"RESULT (.*)", result.stdout)
    if not match:
        raise RuntimeError(result.stdout + result.stderr)
    stats = dict(pair.split("=") for pair in match.group(1).split())
    return stats, paths


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--with-wikipedia", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    serving = gunicorn_serving(args)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = []
    for database in databases:
        stats, paths = measure(database, args)
        rows.append((database, stats))
        print(f"{database}: {stats}", flush=True)
    print(
        f"\nwrk: {args.duration} s, {args.connections} connections, "
        f"gunicorn {serving}, "
        f"{os.cpu_count()} cores; paths cycled: {', '.join(paths)}\n"
    )
    header = (
        f"{'database':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'5xx':>5} {'4xx':>5} {'socket errors':>14}"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for database, s in rows:
        print(
            f"{database:<10} {s['requests']:>9} {s['rps']:>8} {s['p50_ms']:>8} {s['p99_ms']:>8} "
            f"{s['server_errors']:>5} {s['client_errors']:>5} {s['socket_errors']:>14}"
        )
        failed |= int(s["server_errors"]) > 0 or int(s["socket_errors"]) > 0
    if failed:
        print("\nFAIL: server or socket errors under load.")
        sys.exit(1)
    print("\nOK: zero 5xx and zero socket errors.")


if __name__ == "__main__":
    main()

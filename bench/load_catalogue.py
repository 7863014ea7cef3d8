"""`manage.py load_catalogue` into an empty, migrated SQLite database: this tree against a
baseline commit, in the same run.

    .venv/bin/python bench/load_catalogue.py --baseline e7ddea3
    .venv/bin/python bench/load_catalogue.py --baseline e7ddea3 --repeat 5

Each tree (the baseline and HEAD, both exported with `git archive`, so the working tree
and its .cache/ are left alone) is migrated once into a template database. Then, for
each repetition, each tree loads the catalogue into a fresh copy of its template twice:
first with no .cache/ (a clean clone: the catalogue is built from fixtures/ and the
GeoNames file), then with the cache that build left. The command runs as `make load`
runs it (DEBUG=1). Printed: wall time and CPU time (user + system of the command), the
median over the repetitions, and HEAD's against the baseline's. Target (issue 11):
under 10 s.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def export(revision, into):
    """The tree of `revision` in the folder `into` (tracked files only)."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def manage(tree, database, *args):
    """Run manage.py in `tree` on the SQLite file `database`: (wall s, CPU s)."""
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=tree, env=env, check=True, capture_output=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def load_twice(tree, template, scratch):
    """(no cache, with cache) timings of load_catalogue into copies of `template`."""
    shutil.rmtree(tree / ".cache", ignore_errors=True)
    timings = []
    for case in ("clean", "cached"):
        database = scratch / f"{tree.name}-{case}.sqlite3"
        shutil.copyfile(template, database)
        timings.append(manage(tree, database, "load_catalogue"))
        database.unlink()
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-bench-") as scratch:
        scratch = Path(scratch)
        trees = {
            "baseline": export(args.baseline, scratch / "baseline"),
            "HEAD": export("HEAD", scratch / "head"),
        }
        templates = {}
        for name, tree in trees.items():
            templates[name] = scratch / f"{name}-migrated.sqlite3"
            manage(tree, templates[name], "migrate", "--noinput")
        results = {(name, case): [] for name in trees for case in ("clean", "cached")}
        for _ in range(args.repeat):
            for name, tree in trees.items():  # alternate, so both meet the same load
                clean, cached = load_twice(tree, templates[name], scratch)
                results[(name, "clean")].append(clean)
                results[(name, "cached")].append(cached)
    print(f"load_catalogue into an empty SQLite database, median of {args.repeat}")
    print(f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    print(f"{'tree':10} {'case':8} {'wall s':>8} {'CPU s':>8} {'CPU vs baseline':>16}")
    for (name, case), runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        base = statistics.median(c for _, c in results[("baseline", case)])
        print(f"{name:10} {case:8} {wall:8.2f} {cpu:8.2f} {cpu / base:15.2f}x")


if __name__ == "__main__":
    main()

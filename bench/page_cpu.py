"""Wall and CPU time of pages rendered afresh, in process.

    DATABASE_URL=sqlite:////tmp/world10.sqlite3 .venv/bin/python bench/page_cpu.py \\
        /search/?q=lyon /cities/shanghai-cn/ '/twinnings/?country=DE&format=csv'

Each path is requested as bench/render_pages.py requests it (Django's test client,
DEBUG off, PAGE_CACHE=0, every cache cleared before each request): once to warm up,
then --repeat times. It prints the median wall time, the median CPU time of this
process and, for a download, its rows per second of each. On a machine other jobs
share, the CPU time is the steadier figure: on SQLite the database works inside this
process, so it is nearly the whole cost of a page; on PostgreSQL the server's share is
left out of it.
"""

import argparse
import os
import statistics
import sys
import time

from render_pages import setup_django


def measure(client, path, repeat):
    from django.core.cache import cache

    walls, cpus, rows = [], [], 0
    for _ in range(repeat + 1):
        cache.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        if response.streaming:
            rows = b"".join(response.streaming_content).count(b"\n") - 1
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls[1:]), statistics.median(cpus[1:]), rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to the database to measure.")
    setup_django()
    from django.db import connection
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    client.get("/healthz")  # the middleware loaded, as in a running server
    print(
        f"{connection.vendor}; median of {args.repeat} after one to warm up; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'path':<44}{'wall ms':>9}{'CPU ms':>9}{'rows/s':>10}{'rows/CPU s':>12}")
    for path in args.paths:
        wall, cpu, rows = measure(client, path, args.repeat)
        rates = f"{rows / wall:>10,.0f}{rows / cpu:>12,.0f}" if rows else ""
        print(f"{path:<44}{wall * 1000:>9.1f}{cpu * 1000:>9.1f}{rates}", flush=True)


if __name__ == "__main__":
    main()

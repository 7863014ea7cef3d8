"""gunicorn's settings for CityDiplo: `gunicorn citydiplo.wsgi`, run in the checkout,
reads this file; options on the command line override it.

One sync worker per core. The public pages are CPU-bound (Python renders them, and on
SQLite the database runs inside the worker), so workers beyond the cores only take
turns on them: on the project's 2-core VM, 2 workers served 15 to 40% more requests/s
than the 2 × cores + 1 that gunicorn's documentation suggests as a start (bench/README.md,
"One worker per core"). `WEB_CONCURRENCY` sets another number, as gunicorn reads it.
"""

import os


def cores():
    """The cores this process may run on (a container's share, not the host's), or the
    machine's count where the system cannot tell (macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


workers = int(os.environ.get("WEB_CONCURRENCY") or cores())

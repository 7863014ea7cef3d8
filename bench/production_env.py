"""What the benchmarks serve the app with: production settings on loopback, and gunicorn."""

import os
import runpy
import secrets
from pathlib import Path


def production_env(static_root):
    """DEBUG off and a random SECRET_KEY, without HTTPS redirects (wrk speaks plain HTTP),
    static files collected to `static_root` (a temporary folder), not into the checkout."""
    return {
        **os.environ,
        "STATIC_ROOT": str(static_root),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DB_CONN_MAX_AGE": "600",
    }


def gunicorn_options(args):
    """`--workers` and `--threads` as the bench was asked (`args`); gunicorn.conf.py,
    which gunicorn reads in the checkout, settles what was not asked."""
    options = []
    for name in ("workers", "threads"):
        value = getattr(args, name)
        if value:
            options += [f"--{name}", str(value)]
    return options


def gunicorn_setting(args, name):
    """How many `name` ("workers" or "threads") gunicorn runs with."""
    conf = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    return getattr(args, name) or conf.get(name, 1)


def gunicorn_serving(args):
    """What gunicorn runs with, for a bench's report: "2 workers of 1 thread(s)"."""
    workers, threads = gunicorn_setting(args, "workers"), gunicorn_setting(args, "threads")
    return f"{workers} workers of {threads} thread(s)"

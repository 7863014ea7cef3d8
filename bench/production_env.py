"""The environment both benchmarks serve the app with: production settings on loopback."""

import os
import secrets


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

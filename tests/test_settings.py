"""Production is the default, and it is safe."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"


def run_python(*args, **env):
    clean_env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean_env.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_manage(*args, **env):
    return run_python("manage.py", *args, **env)


def read_settings(expression, **env):
    """Import the settings module in a fresh process, as every command starts, and print
    `expression`: a second a test cheaper than starting Django (`manage.py shell`)."""
    return run_python("-c", f"from citydiplo import settings; print({expression})", **env)


def test_startup_without_secret_key_fails_with_a_clear_message():
    result = read_settings("settings.DEBUG", DEBUG="0", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = read_settings("settings.DEBUG", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_malformed_boolean_setting_is_refused():
    result = read_settings("settings.DEBUG", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="citydiplo.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_tile_url_with_subdomains_becomes_a_wildcard_csp_source():
    from citydiplo.settings import _origin

    assert _origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert _origin("https://tile.example.org/{z}/{x}/{y}.png") == "https://tile.example.org"
    assert _origin("") == ""


def test_cache_url_selects_a_shared_redis_cache():
    result = read_settings(
        "settings.CACHES['default']['BACKEND']", DEBUG="1", CACHE_URL="redis://127.0.0.1:6379/3"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.cache.backends.redis.RedisCache"


def test_a_cache_url_that_is_not_redis_is_refused():
    result = read_settings("settings.DEBUG", DEBUG="1", CACHE_URL="memcached://127.0.0.1:11211")
    assert result.returncode != 0
    assert "CACHE_URL='memcached://127.0.0.1:11211' is not a Redis URL" in result.stderr


def gunicorn_config():
    """The settings `gunicorn citydiplo.wsgi` in the checkout would start with, as it
    prints them."""
    result = run_python("-m", "gunicorn", "--print-config", "citydiplo.wsgi", SECRET_KEY=STRONG_KEY)
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.MULTILINE))


def test_gunicorn_starts_one_sync_worker_per_core_unless_told_otherwise():
    environ = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    with mock.patch.dict(os.environ, environ, clear=True):
        config = gunicorn_config()
        assert config["config"] == "./gunicorn.conf.py"
        assert config["worker_class"] == "sync"
        assert int(config["workers"]) == len(os.sched_getaffinity(0))
        # The file read in process (starting gunicorn again costs a second).
        with mock.patch.dict(os.environ, {"WEB_CONCURRENCY": "3"}):
            assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 3

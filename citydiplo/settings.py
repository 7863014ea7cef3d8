"""Settings for CityDiplo, read from the environment.

Production is the default: DEBUG is off unless DEBUG=1, and then the app refuses to
start without a real SECRET_KEY. SQLite is used unless DATABASE_URL names another
database (PostgreSQL in production).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name, default):
    """A boolean from the environment; anything but a clear yes or no is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1 or 0.")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name, default):
    """A comma-separated list from the environment."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "django-insecure-citydiplo-development-only"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random SECRET_KEY in the "
            "environment (python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
            "for development, set DEBUG=1 instead."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for production: use at least 50 random characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_countries",
    "simple_history",
    "import_export",
    "csp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "citydiplo",
    "cities",
    "activities",
]

MIDDLEWARE = [
    # Outermost: security headers on responses refused before the rest ran (bad Host).
    "citydiplo.middleware.HeadersOnEarlyResponses",
    "django.middleware.security.SecurityMiddleware",
    "citydiplo.middleware.refuse_nul_bytes",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a clear 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "citydiplo.urls"
WSGI_APPLICATION = "citydiplo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "citydiplo.context_processors.site_search",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # Server-side cursors (QuerySet.iterator(): the downloads, the release) are read to
    # their last row, so PostgreSQL is told to plan them for every row rather than for
    # the first tenth (its default), for which it walked the list's name index and
    # looked up each twinning: 880 against 200 ms for the CSV of Germany's 18,000
    # twinnings at ten times the imported ones (bench/README.md).
    cursor_options = DATABASES["default"].setdefault("OPTIONS", {})
    cursor_options["options"] = (
        f"{cursor_options.get('options', '')} -c cursor_tuple_fraction=1".strip()
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two editors saving at once: each write transaction takes SQLite's write lock when
    # it begins (IMMEDIATE) and waits up to 20 s for it, instead of failing with
    # "database is locked" when two transactions that have read both try to write.
    # WAL lets pages be read while an editor writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # No JIT compilation: the planner prices a count per city (a correlated subquery)
    # in the tens of millions, so PostgreSQL compiled such queries for each request, and
    # compiling took longer than running them (1.5 of 2.0 s for the city list's "has
    # twinnings" facet at ten times the imported twinnings: bench/README.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Whole public pages are cached under the catalogue version, which the
# database raises on every write (citydiplo/versioning.py, citydiplo/pagecache.py). By default
# each gunicorn worker keeps its own in-memory cache: nothing to install or run beside
# the app. CACHE_URL=redis://host:6379/0 shares one cache between workers and machines
# (a page is then rendered once, not once per worker). PAGE_CACHE=0 renders every page
# afresh (the bench measures both).
CACHE_URL = os.environ.get("CACHE_URL", "").strip()
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "citydiplo",
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured(
        f"CACHE_URL={CACHE_URL[:40]!r} is not a Redis URL: use redis://host:6379/0, "
        "or leave it unset for each worker's own memory cache."
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 1000)},
        }
    }
PAGE_CACHE = env_bool("PAGE_CACHE", True)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
# The catalogue is written in English only, and Django's and django-countries' messages
# are English already: without translation machinery each label, choice and country
# name is returned as it is, not looked up in a thread's catalogue (Germany's
# twinnings 1.25x, Europe's cities 1.28x rendered afresh: bench/README.md).
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic writes. The benchmarks write to a temporary folder instead: files
# left here would be served in place of static/ to the tests, however old.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: strict unless DEBUG. HTTPS redirect and HSTS can be turned off for a
# deployment where a proxy already enforces them (or for loopback benchmarks).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
X_FRAME_OPTIONS = "DENY"

# Admin login lockout (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, that login is locked for AXES_COOLOFF_HOURS.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

COUNTRIES_OVERRIDE = {"XK": "Kosovo"}

# Admin bulk import: every file in one transaction, rolled back on any invalid row.
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Admin imports: larger uploads are refused with a message (activities/uploads.py keeps
# the accepted one in the uploader's session between preview and confirm).
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_MB", 5) * 1024 * 1024
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Maps: the tile server is a setting; pages draw markers and lines without tiles too.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors")


def _origin(url):
    """scheme://host of a URL template such as https://tile.example.org/{z}/{x}/{y}.png

    Leaflet's `{s}` subdomain placeholder becomes a CSP wildcard: https://*.example.org.
    """
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].replace("{s}.", "*.")
    return f"{scheme}://{host}" if rest else ""


# A strict Content Security Policy: no inline scripts or styles, no CDN; only the map
# tile server is allowed beside our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *filter(None, [_origin(MAP_TILE_URL)])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The read API (activities/api/): read-only, JSON only, published records only.
# Anonymous clients are throttled per address (API_ANON_RATE requests per minute,
# counted in the cache); editors with a session are not.
API_ANON_RATE = os.environ.get("API_ANON_RATE", "120/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "activities.api.protocol.JSONOnly",
    "DEFAULT_THROTTLE_CLASSES": ["activities.api.protocol.AnonymousThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "activities.api.protocol.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Coordinates and budgets as JSON numbers, not strings.
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CityDiplo API",
    "DESCRIPTION": (
        "Read-only access to the published records of CityDiplo, a catalogue of city "
        "diplomacy. List endpoints take the same filter parameters as the matching list "
        "pages. Data: CC BY-SA 4.0 (credit CityDiplo, Wikipedia contributors for the "
        "twin-town lists, GeoNames for places)."
    ),
    "VERSION": "1",
    "LICENSE": {"name": "CC BY-SA 4.0", "url": "https://creativecommons.org/licenses/by-sa/4.0/"},
    "SERVE_INCLUDE_SCHEMA": False,
    # The API is public: no login shown in the documentation (editors' sessions still
    # lift the throttle).
    "AUTHENTICATION_WHITELIST": [],
    # Swagger UI from the drf-spectacular-sidecar package, served as our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": False,
    # One name for the date precision choices every model shares.
    "ENUM_NAME_OVERRIDES": {"DatePrecisionEnum": "citydiplo.records.DatePrecision"},
}

# Where `manage.py release` writes the citable releases (one folder per version) and
# where the /data/ page finds the latest.
RELEASE_DIR = Path(os.environ.get("RELEASE_DIR") or BASE_DIR / "releases")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

"""Public pages cached whole under the catalogue version, with ETags for conditional GET.

A public page depends only on its address, the host it was asked on, the day (records
say when they were accessed) and the catalogue's data. The data's part is the
catalogue version (citydiplo/versioning.py), which the database raises on every write, so
a cached page is served only while the data it shows is unchanged: an edit, a
publication or an import makes every page render afresh.

- A hit costs one primary-key read and a cache lookup, instead of the page's queries
  and template rendering.
- Every answer carries an ETag from the same key, and `Cache-Control: no-cache`, so
  browsers ask again each time and get 304 Not Modified while nothing has changed.
- Only anonymous visitors' plain GETs are served from the cache: a request carrying a
  session or messages cookie (an editor, a flash message) always renders.
- Only complete 200 answers are stored, never a streamed download or an error; a
  download still gets its ETag, so an unchanged one is not sent twice.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control

from .versioning import catalogue_version

PAGE_CACHE_SECONDS = 3600
MAX_CACHED_BYTES = 1_000_000
KEPT_HEADERS = ("Content-Type", "Content-Language")


def page_key(request, version):
    parts = (
        version,
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        timezone.localdate().isoformat(),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def is_personal(request):
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies


def cached_public_page(view):
    """Serve `view`'s answers from the page cache while the catalogue is unchanged."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not settings.PAGE_CACHE or is_personal(request):
            return view(request, *args, **kwargs)
        key = page_key(request, catalogue_version())
        etag = f'"{key[:32]}"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            return not_modified
        stored = cache.get(f"page:{key}")
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content, headers=headers)
        else:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if (
                response.status_code == 200
                and not response.streaming
                and len(response.content) <= MAX_CACHED_BYTES
            ):
                headers = {name: response[name] for name in KEPT_HEADERS if name in response}
                cache.set(f"page:{key}", (response.content, headers), PAGE_CACHE_SECONDS)
        if response.status_code == 200:  # downloads too: same address, same data
            response["ETag"] = etag
            patch_cache_control(response, no_cache=True)
        return response

    return wrapped


def public_page(view_class, **initkwargs):
    """A public page's view, as urls.py routes it: class-based, page-cached."""
    return cached_public_page(view_class.as_view(**initkwargs))

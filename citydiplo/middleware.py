"""Middleware that guards the edges of every request.

- `refuse_nul_bytes`: a NUL byte in a query parameter of an admin page is refused with
  400. PostgreSQL cannot store or compare strings holding one, and would answer an
  admin list filter or search containing it with a 500. (Public pages clean their
  parameters in their FilterSets and answer such a query with the page.)
- `HeadersOnEarlyResponses`: outermost; a response made before the inner middleware
  ran (a request refused for its `Host` header, raised from SecurityMiddleware or
  CommonMiddleware) gets the same security headers as every page.
"""

from csp.middleware import CSPMiddleware
from django.http import HttpResponseBadRequest
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse


def refuse_nul_bytes(get_response):
    admin_prefix = None

    def middleware(request):
        nonlocal admin_prefix
        if admin_prefix is None:
            admin_prefix = reverse("admin:index")
        if not request.path_info.startswith(admin_prefix):
            return get_response(request)
        for _key, values in request.GET.lists():
            if "\x00" in _key or any("\x00" in value for value in values):
                return HttpResponseBadRequest(
                    "A parameter holds a NUL byte (%00), which no field can contain.",
                    content_type="text/plain; charset=utf-8",
                )
        return get_response(request)

    return middleware


class HeadersOnEarlyResponses:
    def __init__(self, get_response):
        self.get_response = get_response
        self.headers = [
            SecurityMiddleware(get_response),
            XFrameOptionsMiddleware(get_response),
            CSPMiddleware(get_response),
        ]

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and "X-Frame-Options" not in response:
            for middleware in self.headers:
                response = middleware.process_response(request, response)
        return response

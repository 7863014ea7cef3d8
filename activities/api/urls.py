from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from citydiplo.pagecache import cached_public_page

from . import views
from .protocol import throttled

app_name = "api"

router = SimpleRouter()
for prefix, viewset, name in views.ENDPOINTS:
    router.register(prefix, viewset, basename=name)

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    # Lists and records are public pages: cached whole under the catalogue version,
    # with ETags, like the site's pages (citydiplo/pagecache.py); throttled first.
    *(
        URLPattern(
            url.pattern, throttled(cached_public_page(url.callback)), url.default_args, url.name
        )
        for url in router.urls
    ),
]

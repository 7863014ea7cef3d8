from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from activities.urls import city_urlpatterns

from .health import healthz

admin.site.site_header = "CityDiplo"
admin.site.site_title = "CityDiplo admin"
admin.site.index_title = "The catalogue"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    path("admin/", admin.site.urls),
    path("api/", include("activities.api.urls")),
    path("cities/", include(city_urlpatterns)),
    path("", include("activities.urls")),
]

from django.urls import path

from citydiplo.pagecache import public_page

from . import views
from .api import views as api
from .api.views import with_json

app_name = "activities"

urlpatterns = [
    path("", public_page(views.HomeView), name="home"),
    path("search/", public_page(views.SearchView), name="search"),
    path("about/", public_page(views.AboutView), name="about"),
    path("data/", views.DataView.as_view(), name="data"),
    path("data/<str:version>/<str:name>", views.data_file, name="data-file"),
    path("analysis/", public_page(views.AnalysisView), name="analysis"),
    path("networks/", public_page(views.NetworkListView), name="network-list"),
    path(
        "networks/<slug:slug>/",
        with_json(public_page(views.NetworkDetailView), api.NetworkViewSet, "slug"),
        name="network-detail",
    ),
    path("agreements/", public_page(views.AgreementListView), name="agreement-list"),
    path(
        "agreements/<slug:slug>/",
        with_json(public_page(views.AgreementDetailView), api.AgreementViewSet, "slug"),
        name="agreement-detail",
    ),
    path("memberships/", public_page(views.MembershipListView), name="membership-list"),
    path(
        "agreement-parties/",
        public_page(views.AgreementPartyListView),
        name="agreementparty-list",
    ),
    path("twinnings/", public_page(views.TwinningListView), name="twinning-list"),
    path(
        "twinnings/<int:pk>/",
        with_json(public_page(views.TwinningDetailView), api.TwinningViewSet, "pk"),
        name="twinning-detail",
    ),
    path("activities/", public_page(views.ActivityListView), name="activity-list"),
    path(
        "activities/<slug:slug>/",
        with_json(public_page(views.ActivityDetailView), api.ActivityViewSet, "slug"),
        name="activity-detail",
    ),
    path(
        "themes/<slug:slug>/",
        with_json(public_page(views.ThemeDetailView), api.ThemeViewSet, "slug"),
        name="theme-detail",
    ),
]

# The city pages show a city's diplomacy, so they live here, under their own namespace.
city_urlpatterns = (
    [
        path("", public_page(views.CityListView), name="city-list"),
        path("autocomplete/", views.city_autocomplete, name="city-autocomplete"),
        path(
            "<slug:slug>/",
            with_json(public_page(views.CityDetailView), api.CityViewSet, "slug"),
            name="city-detail",
        ),
    ],
    "cities",
)

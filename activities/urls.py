from django.urls import path

from citydiplo.pagecache import public_page

from . import views

app_name = "activities"

urlpatterns = [
    path("", public_page(views.HomeView), name="home"),
    path("search/", public_page(views.SearchView), name="search"),
    path("about/", public_page(views.AboutView), name="about"),
    path("analysis/", public_page(views.AnalysisView), name="analysis"),
    path("networks/", public_page(views.NetworkListView), name="network-list"),
    path("networks/<slug:slug>/", public_page(views.NetworkDetailView), name="network-detail"),
    path("agreements/", public_page(views.AgreementListView), name="agreement-list"),
    path(
        "agreements/<slug:slug>/", public_page(views.AgreementDetailView), name="agreement-detail"
    ),
    path("twinnings/", public_page(views.TwinningListView), name="twinning-list"),
    path("twinnings/<int:pk>/", public_page(views.TwinningDetailView), name="twinning-detail"),
    path("activities/", public_page(views.ActivityListView), name="activity-list"),
    path("activities/<slug:slug>/", public_page(views.ActivityDetailView), name="activity-detail"),
    path("themes/<slug:slug>/", public_page(views.ThemeDetailView), name="theme-detail"),
]

# The city pages show a city's diplomacy, so they live here, under their own namespace.
city_urlpatterns = (
    [
        path("", public_page(views.CityListView), name="city-list"),
        path("<slug:slug>/", public_page(views.CityDetailView), name="city-detail"),
    ],
    "cities",
)

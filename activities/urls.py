from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("about/", views.AboutView.as_view(), name="about"),
    path("networks/", views.NetworkListView.as_view(), name="network-list"),
    path("networks/<slug:slug>/", views.NetworkDetailView.as_view(), name="network-detail"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement-list"),
    path("agreements/<slug:slug>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("twinnings/", views.TwinningListView.as_view(), name="twinning-list"),
    path("twinnings/<int:pk>/", views.TwinningDetailView.as_view(), name="twinning-detail"),
    path("activities/", views.ActivityListView.as_view(), name="activity-list"),
    path("activities/<slug:slug>/", views.ActivityDetailView.as_view(), name="activity-detail"),
    path("themes/<slug:slug>/", views.ThemeDetailView.as_view(), name="theme-detail"),
]

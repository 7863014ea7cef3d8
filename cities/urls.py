from django.urls import path

from . import views
from .pagecache import public_page

app_name = "cities"

urlpatterns = [
    path("", public_page(views.CityListView), name="city-list"),
    path("autocomplete/", views.city_autocomplete, name="city-autocomplete"),
    path("<slug:slug>/", public_page(views.CityDetailView), name="city-detail"),
]

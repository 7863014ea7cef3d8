from django.views.generic import DetailView

from .exports import CITY_COLUMNS
from .filters import CityFilterSet
from .listing import CatalogueListView
from .models import City


class CityListView(CatalogueListView):
    model = City
    filterset_class = CityFilterSet
    template_name = "cities/city_list.html"
    heading = "Cities"
    intro = (
        "Cities, towns and other places that twin, join networks, sign agreements or run "
        "activities abroad."
    )
    search_placeholder = "Name, other spelling or region"
    columns = (
        ("Name", "name", False),
        ("Country", "country", False),
        ("Kind", "kind", False),
        ("Population", "population", True),
        ("Twinnings", "twinnings", True),
        ("Networks", "networks", True),
    )
    export_columns = CITY_COLUMNS
    export_name = "cities"


class CityDetailView(DetailView):
    def get_queryset(self):
        return City.objects.published()

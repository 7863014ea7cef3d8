from dataclasses import dataclass

from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django.views.generic import DetailView

from .charts import timeline
from .exports import CITY_COLUMNS
from .filters import CityFilterSet
from .listing import CatalogueListView, printable
from .maps import map_data
from .models import City
from .regions import country_namer


@dataclass
class TwinningRow:
    """One row of a city's twinnings, worked out once in the view: resolved through the
    models' methods in the template, the rows cost most of the page."""

    twinning: object  # activities.models.Twinning (cities imports nothing from activities)
    url: str
    partner: City
    partner_url: str
    partner_country: str
    kind: str
    since: str
    status: str
    status_label: str
    status_year: int | None  # shown only when the link is no longer active


@dataclass
class CityListRow:
    """A row of the city list, worked out once in the view (as TwinningRow)."""

    city: City
    url: str
    country: str
    kind: str


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

    def rows(self, cities):
        country_name = country_namer()
        return [
            CityListRow(
                city=city,
                url=city.get_absolute_url(),
                country=country_name(city.country),
                kind=city.get_kind_display(),
            )
            for city in cities
        ]


class CityDetailView(DetailView):
    def get_queryset(self):
        return City.objects.published().for_detail()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        city = self.object
        twinnings = [(twinning, twinning.city_b) for twinning in city.published_twinnings_as_a] + [
            (twinning, twinning.city_a) for twinning in city.published_twinnings_as_b
        ]
        twinnings.sort(key=lambda pair: (pair[0].start_year or 9999, pair[1].name))
        activities = [(activity, "Lead") for activity in city.published_activities_led] + [
            (activity, "Partner") for activity in city.published_activities_joined
        ]
        activities.sort(key=lambda pair: (-(pair[0].start_year or 0), pair[0].title))
        country_name = country_namer()
        rows = [
            TwinningRow(
                twinning=twinning,
                url=twinning.get_absolute_url(),
                partner=partner,
                partner_url=partner.get_absolute_url(),
                partner_country=country_name(partner.country),
                kind=twinning.get_kind_display(),
                since=twinning.start_display,
                status=twinning.status,
                status_label=twinning.get_status_display(),
                status_year=twinning.status_year if twinning.status != "active" else None,
            )
            for twinning, partner in twinnings
        ]
        context.update(
            twinnings=rows,
            activities=activities,
            map_data=map_data(
                [partner for _twinning, partner in twinnings], focus=city, link_focus=True
            ),
            twinning_timeline=timeline(
                [
                    (
                        row.partner.name,
                        row.twinning.start_year,
                        row.status_year,
                        row.status,
                        row.url,
                    )
                    for row in rows
                ],
                title=f"Twinnings of {city.name} over time",
                desc="One bar per twinning with a known start year, from its start to its "
                "suspension or end, or to today when active.",
            ),
        )
        return context


AUTOCOMPLETE_SHOWN = 10
AUTOCOMPLETE_MAX_LENGTH = 200


@require_GET
def city_autocomplete(request):
    """`?q=lyo`: the published places best matching `q` (City search), as JSON for the
    place pickers of the list filters: `results`: [{slug, name, label}], where `label`
    adds the subdivision and country so namesakes can be told apart."""
    q = printable(request.GET.get("q", ""))[:AUTOCOMPLETE_MAX_LENGTH].strip()
    results = []
    if q:
        country_name = country_namer()
        places = (
            City.objects.published()
            .search(q)
            .only("name", "slug", "country", "subdivision", "population")[:AUTOCOMPLETE_SHOWN]
        )
        for city in places:
            where = ", ".join(
                part for part in (city.subdivision, country_name(city.country)) if part
            )
            results.append(
                {"slug": city.slug, "name": city.name, "label": f"{city.name} ({where})"}
            )
    return JsonResponse({"query": q, "results": results})

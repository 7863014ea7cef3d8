from django.views.generic import DetailView, ListView

from .models import City


class CityListView(ListView):
    paginate_by = 50

    def get_queryset(self):
        return City.objects.published()


class CityDetailView(DetailView):
    def get_queryset(self):
        return City.objects.published()

from django.views.generic import DetailView, ListView, TemplateView

from .models import Activity, Agreement, Network, Theme, Twinning


class HomeView(TemplateView):
    template_name = "activities/home.html"


class SearchView(TemplateView):
    template_name = "activities/search.html"


class AboutView(TemplateView):
    template_name = "activities/about.html"


class PublishedMixin:
    model = None

    def get_queryset(self):
        return self.model.objects.published()


class NetworkListView(PublishedMixin, ListView):
    model = Network
    paginate_by = 50


class NetworkDetailView(PublishedMixin, DetailView):
    model = Network


class AgreementListView(PublishedMixin, ListView):
    model = Agreement
    paginate_by = 50


class AgreementDetailView(PublishedMixin, DetailView):
    model = Agreement


class TwinningListView(PublishedMixin, ListView):
    model = Twinning
    paginate_by = 50

    def get_queryset(self):
        return super().get_queryset().select_related("city_a", "city_b")


class TwinningDetailView(PublishedMixin, DetailView):
    model = Twinning


class ActivityListView(PublishedMixin, ListView):
    model = Activity
    paginate_by = 50


class ActivityDetailView(PublishedMixin, DetailView):
    model = Activity


class ThemeDetailView(DetailView):
    model = Theme

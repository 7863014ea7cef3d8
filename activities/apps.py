from django.apps import AppConfig
from django.db.models.signals import post_save


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "City diplomacy"

    def ready(self):
        from cities.models import City

        from .models import city_saved

        post_save.connect(city_saved, sender=City, dispatch_uid="activities_city_saved")

"""The curated catalogue builds from its CSV files and loads idempotently."""

from django.apps import apps
from django.core.management import call_command

from activities.models import Twinning
from cities.models import City

CATALOGUE_MODELS = [
    "cities.City",
    "activities.Source",
    "activities.Theme",
    "activities.Network",
    "activities.Membership",
    "activities.Agreement",
    "activities.AgreementParty",
    "activities.Twinning",
    "activities.Activity",
]


def snapshot():
    state = {}
    for label in CATALOGUE_MODELS:
        model = apps.get_model(label)
        rows = list(model.objects.order_by("pk").values())
        state[label] = rows
    return state


def test_catalogue_loads_into_an_empty_database_and_twice_changes_nothing(db):
    assert City.objects.count() == 0
    call_command("load_catalogue", verbosity=0)
    first = snapshot()
    assert len(first["cities.City"]) > 0
    assert len(first["activities.Twinning"]) > 0
    call_command("load_catalogue", verbosity=0)
    assert snapshot() == first


def test_loaded_twinnings_never_repeat_a_pair_in_either_order(db):
    call_command("load_catalogue", verbosity=0)
    pairs = [frozenset(p) for p in Twinning.objects.values_list("city_a", "city_b")]
    assert len(pairs) == len(set(pairs))


def test_reloading_keeps_a_changed_record_and_editors_records(db, make_city):
    call_command("load_catalogue", verbosity=0)
    coventry = City.objects.get(slug="coventry-gb")
    coventry.name = "Typo"
    coventry.save()
    editors_city = make_city("Editors' Town", slug="editors-town-fr")
    call_command("load_catalogue", verbosity=0)
    assert City.objects.get(slug="coventry-gb").name == "Typo"  # an editor's work is kept
    assert City.objects.filter(pk=editors_city.pk).exists()


def test_a_broken_catalogue_loads_nothing(db, tmp_path):
    import json

    import pytest
    from django.core.management.base import CommandError

    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(
            [
                {"model": "cities.city", "fields": {"slug": "a-fr", "name": "A", "country": "FR"}},
                {
                    "model": "activities.twinning",
                    "fields": {"city_a": ["a-fr"], "city_b": ["nowhere-xx"]},
                },
            ]
        )
    )
    with pytest.raises(CommandError, match="Nothing loaded"):
        call_command("load_catalogue", fixture=str(path), verbosity=0)
    assert City.objects.count() == 0

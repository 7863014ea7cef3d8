"""load_catalogue never loses an editor's work: it adds what is new, updates what
nobody changed since the last load, and keeps (and lists) everything else."""

import io
import json

import pytest
from django.core.management import call_command

from activities.models import LoadedRecord, Source, Twinning
from cities.models import City


def write_catalogue(path, *, coventry="Coventry", notes="", source_title="Coventry", extra=()):
    records = [
        {
            "model": "activities.source",
            "fields": {
                "key": "wiki-coventry",
                "title": source_title,
                "url": "https://example.org/c",
                "kind": "reference",
                "cities": [["coventry-gb"]],
            },
        },
        {
            "model": "cities.city",
            "fields": {"name": coventry, "slug": "coventry-gb", "country": "GB"},
        },
        {
            "model": "cities.city",
            "fields": {"name": "Volgograd", "slug": "volgograd-ru", "country": "RU"},
        },
        {
            "model": "activities.twinning",
            "fields": {
                "city_a": ["coventry-gb"],
                "city_b": ["volgograd-ru"],
                "start_year": 1944,
                "notes": notes,
                "review_state": "published",
                "sources": [["wiki-coventry"]],
            },
        },
        *extra,
    ]
    # Sources come before cities in the file here; the loader orders by model anyway.
    path.write_text(json.dumps(records))
    return str(path)


def load(path):
    out = io.StringIO()
    call_command("load_catalogue", "--fixture", path, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db, tmp_path):
    load(write_catalogue(tmp_path / "first.json"))
    return tmp_path


def test_first_load_creates_everything_and_remembers_it(loaded):
    assert City.objects.count() == 2 and Twinning.objects.count() == 1
    assert LoadedRecord.objects.count() == 4
    assert Source.objects.get().cities.get().slug == "coventry-gb"


def test_reload_updates_a_record_nobody_changed(loaded):
    output = load(write_catalogue(loaded / "next.json", coventry="City of Coventry"))
    assert City.objects.get(slug="coventry-gb").name == "City of Coventry"
    assert "cities: 0 new, 1 updated" in output
    assert "Kept" not in output


def test_reload_keeps_an_editors_rename_and_says_what_the_fixture_would_set(loaded):
    city = City.objects.get(slug="coventry-gb")
    city.name = "Coventry (edited)"
    city.save()
    output = load(write_catalogue(loaded / "next.json", coventry="City of Coventry"))
    assert City.objects.get(slug="coventry-gb").name == "Coventry (edited)"
    assert "Kept 1 record(s) changed since the last load" in output
    assert (
        "coventry-gb (changed since the last load; "
        "the fixtures would set name -> 'City of Coventry')" in output
    )
    # Kept records are not rewritten by later loads either.
    load(write_catalogue(loaded / "again.json", coventry="City of Coventry"))
    assert City.objects.get(slug="coventry-gb").name == "Coventry (edited)"


def test_reload_leaves_records_the_fixture_does_not_name_alone(loaded, make_city):
    editors_city = make_city("Editors' Town", slug="editors-town-fr")
    load(write_catalogue(loaded / "next.json", coventry="City of Coventry"))
    assert City.objects.filter(pk=editors_city.pk, name="Editors' Town").exists()
    assert City.objects.count() == 3


def test_reload_keeps_a_source_link_an_editor_added(loaded):
    volgograd = City.objects.get(slug="volgograd-ru")
    Source.objects.get().cities.add(volgograd)
    output = load(write_catalogue(loaded / "next.json", source_title="Coventry, its twins"))
    source = Source.objects.get()
    assert set(source.cities.values_list("slug", flat=True)) == {"coventry-gb", "volgograd-ru"}
    assert source.title == "Coventry"
    assert (
        "activities.source wiki-coventry" in output and "title -> 'Coventry, its twins'" in output
    )


def test_reload_never_republishes_a_twinning_returned_to_draft(loaded):
    Twinning.objects.update(review_state="draft")
    output = load(write_catalogue(loaded / "next.json", notes="Curated note"))
    twinning = Twinning.objects.get()
    assert twinning.review_state == "draft"
    assert twinning.notes == ""
    assert "activities.twinning coventry-gb/volgograd-ru" in output


def test_reload_survives_a_renamed_slug(loaded):
    city = City.objects.get(slug="coventry-gb")
    city.slug = "coventry-west-midlands-gb"
    city.save()
    output = load(write_catalogue(loaded / "next.json", notes="Curated note"))
    assert City.objects.count() == 2
    assert City.objects.filter(slug="coventry-west-midlands-gb").exists()
    twinning = Twinning.objects.get()
    assert twinning.city_a_id == city.pk
    assert twinning.notes == "Curated note"  # the twinning itself was untouched: updated
    assert "slug -> 'coventry-gb'" in output


def test_reload_adds_new_records_beside_kept_ones(loaded):
    City.objects.filter(slug="coventry-gb").update(name="Edited")
    extra = [
        {
            "model": "cities.city",
            "fields": {"name": "Dresden", "slug": "dresden-de", "country": "DE"},
        }
    ]
    output = load(write_catalogue(loaded / "next.json", extra=extra))
    assert City.objects.filter(slug="dresden-de").exists()
    assert City.objects.get(slug="coventry-gb").name == "Edited"
    assert "cities: 1 new, 0 updated, 1 kept" in output


def test_reload_does_not_recreate_a_record_deleted_since(loaded):
    Twinning.objects.all().delete()
    output = load(write_catalogue(loaded / "next.json"))
    assert Twinning.objects.count() == 0
    assert "deleted since the last load" in output


def test_records_loaded_before_fingerprints_follow_their_history(loaded):
    """A database loaded by the old loader: the load's own history rows tell what it wrote."""
    LoadedRecord.objects.all().delete()
    edited = City.objects.get(slug="volgograd-ru")
    edited.name = "Volgograd (edited)"
    edited._change_reason = "editor"
    edited.save()
    load(write_catalogue(loaded / "next.json", coventry="City of Coventry"))
    assert City.objects.get(slug="coventry-gb").name == "City of Coventry"
    assert City.objects.get(slug="volgograd-ru").name == "Volgograd (edited)"


def test_a_kept_records_review_state_is_never_raised(loaded):
    City.objects.filter(slug="volgograd-ru").update(review_state="draft", notes="x")
    load(write_catalogue(loaded / "next.json"))
    assert City.objects.get(slug="volgograd-ru").review_state == "draft"


def test_reload_keeps_a_record_with_a_change_waiting_for_review(loaded, editor):
    from citydiplo import review

    city = City.objects.get(slug="coventry-gb")
    before = review.record_state(city)
    after = {**before, "fields": {**before["fields"], "name": "Coventry (proposed)"}}
    review.propose(city, before, after, user=editor)
    output = load(write_catalogue(loaded / "next.json", coventry="City of Coventry"))
    assert City.objects.get(slug="coventry-gb").name == "Coventry"
    assert "a change to it awaits review" in output

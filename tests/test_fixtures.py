"""The curated catalogue builds from its CSV files (loading it: test_catalogue_data.py)."""

import pytest
from django.core.management import call_command

from activities.models import Twinning
from cities.models import City


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


# One validation path: the builder applies the models' rules ------------------------------

SOURCES = (
    "key,title,url,publisher,kind,published_on,accessed_on\n"
    "geonames,GeoNames,https://www.geonames.org/,GeoNames,dataset,,2026-11-25\n"
    "fr-page,Partner cities,https://example.org/partners,City,official,,2026-11-30\n"
    "en-page,Twin towns,https://example.org/twins,City,official,,2026-11-30\n"
)
CITIES = (
    "slug,name,country,subdivision,kind,is_capital,geonames_id,wikidata_id,summary,sources,notes\n"
    "frankfurt-am-main-de,Frankfurt am Main,DE,,city,0,2925533,,,geonames,\n"
    "lyon-fr,Lyon,FR,,city,0,2996944,,,geonames,\n"
)
TWINNINGS_HEADER = (
    "city_a,city_b,kind,start_year,start_on,status,status_year,status_on,status_reason,"
    "status_act,themes,sources,notes\n"
)


class FakeGazetteer:
    """by_id() for the two test cities, so the builder needs no GeoNames file."""

    def by_id(self, geonames_id):
        from cities.gazetteer import Place

        places = {
            2925533: Place(2925533, "Frankfurt am Main", "DE", "05", 50.11, 8.68, 650000),
            2996944: Place(2996944, "Lyon", "FR", "84", 45.75, 4.85, 500000),
        }
        return places.get(int(geonames_id))


def write_catalogue(root, twinnings, conflicts=""):
    (root / "sources").mkdir()
    (root / "sources" / "s.csv").write_text(SOURCES)
    (root / "cities").mkdir()
    (root / "cities" / "c.csv").write_text(CITIES)
    (root / "twinnings").mkdir()
    (root / "twinnings" / "t.csv").write_text(TWINNINGS_HEADER + twinnings)
    if conflicts:
        (root / "conflicts").mkdir()
        (root / "conflicts" / "x.csv").write_text(
            "kind,record,field,value,sources,notes\n" + conflicts
        )
    return root


def build(root):
    from activities.catalogue import Builder

    return Builder(root=root, gazetteer=FakeGazetteer()).build()


def build_errors(root):
    from activities.catalogue import CatalogueError

    with pytest.raises(CatalogueError) as caught:
        build(root)
    return caught.value.errors


FRANKFURT_LYON = "frankfurt-am-main-de,lyon-fr,partner_city,1960,1960-10-08,active,,,,,,fr-page,\n"


def test_a_row_breaking_a_model_rule_fails_the_build_naming_file_and_line(tmp_path):
    root = write_catalogue(
        tmp_path,
        FRANKFURT_LYON.replace("1960-10-08", "1961-10-08")
        + "lyon-fr,lyon-fr,twin_town,1970,,active,,,,,,fr-page,\n",
    )
    errors = build_errors(root)
    where = (root / "twinnings" / "t.csv").as_posix()
    # The messages are the models' own (Twinning.clean() and its check constraint).
    assert f"{where}:2: start_on: The date is in 1961, the year says 1960." in errors
    assert f"{where}:3: city_b: A place cannot be twinned with itself." in errors


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("frankfurt-am-main-de,lyon-fr,cousin_city,,,active,,,,,,fr-page,", "kind: Value"),
        ("frankfurt-am-main-de,lyon-fr,twin_town,2050,,active,,,,,,fr-page,", "future"),
        ("frankfurt-am-main-de,lyon-fr,twin_town,700,,active,,,,,,fr-page,", "greater than"),
        ("frankfurt-am-main-de,lyon-fr,twin_town,,1960-10-08,active,,,,,,fr-page,", "year"),
        ("frankfurt-am-main-de,lyon-fr,twin_town,1960,,suspended,,,,,,fr-page,", "suspended"),
        ("frankfurt-am-main-de,lyon-fr,twin_town,1990,,terminated,1980,,,,,fr-page,", "before"),
    ],
)
def test_the_builder_reports_what_the_admin_would(tmp_path, row, message):
    errors = build_errors(write_catalogue(tmp_path, row + "\n"))
    assert len(errors) >= 1
    where = (tmp_path / "twinnings" / "t.csv").as_posix() + ":2: "
    assert all(error.startswith(where) for error in errors)
    assert any(message in error for error in errors), errors


def test_check_constraints_in_memory_agree_with_django(db):
    """The builder evaluates check constraints in Python; Django asks the database."""
    from django.db import models

    from activities.catalogue import Unsupported, evaluate
    from activities.models import Activity, Network

    cases = [
        Twinning(pk=1, city_a_id=1, city_b_id=1, kind="twin_town", status="active"),
        Twinning(pk=1, city_a_id=1, city_b_id=2, kind="twin_town", status="paused"),
        Twinning(pk=1, city_a_id=1, city_b_id=2, start_year=1990, status_year=1980),
        Twinning(pk=1, city_a_id=1, city_b_id=2, start_year=None, status_year=1980),
        Network(pk=3, merged_into_id=3, scope="global", founded_year=1990, closed_year=1980),
        Network(pk=3, merged_into_id=4, scope="global", founded_precision=""),
        Activity(pk=1, kind="summit", budget=10, budget_currency=""),
        Activity(pk=1, kind="summit", budget=None, budget_currency=""),
    ]
    compared = 0
    for instance in cases:
        for constraint in instance._meta.constraints:
            if not isinstance(constraint, models.CheckConstraint):
                continue
            try:
                mine = evaluate(constraint.condition, instance) is not False
            except Unsupported:
                continue
            theirs = constraint.condition.check(
                instance._get_field_expression_map(meta=instance._meta)
            )
            assert mine == theirs, (instance, constraint.name)
            compared += 1
    assert compared > 20


def test_conflicts_files_name_their_record_in_either_order(tmp_path):
    root = write_catalogue(
        tmp_path,
        FRANKFURT_LYON,
        "twinning,lyon-fr|frankfurt-am-main-de,start,1960-10-15,en-page,\n",
    )
    objects = build(root)
    (conflict,) = [o["fields"] for o in objects if o["model"] == "activities.conflictingvalue"]
    assert conflict["twinning"] == ["frankfurt-am-main-de", "lyon-fr"]
    assert (conflict["field"], conflict["value"], conflict["sources"]) == (
        "start",
        "1960-10-15",
        [["en-page"]],
    )


@pytest.mark.parametrize(
    ("conflict", "message"),
    [
        ("twinning,lyon-fr|paris-fr,start,1960,en-page,", "no twinning 'lyon-fr|paris-fr'"),
        ("twinning,lyon-fr|frankfurt-am-main-de,start,1960-10-08,en-page,", "already uses"),
        ("twinning,lyon-fr|frankfurt-am-main-de,joined_year,1960,en-page,", "field"),
        ("twinning,lyon-fr|frankfurt-am-main-de,start,1960-10-15,,", "cite at least one"),
        ("treaty,lyon-fr|frankfurt-am-main-de,start,1960,en-page,", "kind='treaty'"),
    ],
)
def test_a_bad_conflict_row_fails_the_build_naming_it(tmp_path, conflict, message):
    errors = build_errors(write_catalogue(tmp_path, FRANKFURT_LYON, conflict + "\n"))
    where = (tmp_path / "conflicts" / "x.csv").as_posix() + ":2: "
    assert any(error.startswith(where) and message in error for error in errors), errors


def test_each_city_cites_its_own_geonames_page(tmp_path):
    objects = build(write_catalogue(tmp_path, FRANKFURT_LYON))
    sources = {
        o["fields"]["key"]: o["fields"] for o in objects if o["model"] == "activities.source"
    }
    page = sources["geonames-2996944"]
    assert (page["title"], page["url"], page["publisher"]) == (
        "GeoNames: Lyon",
        "https://www.geonames.org/2996944",
        "GeoNames",
    )
    assert page["cities"] == [["lyon-fr"]]
    assert sources["geonames"]["cities"] == []  # the homepage is no city's source


def test_load_catalogue_builds_from_the_csv_files_once(db, tmp_path, settings):
    from activities.catalogue import catalogue_objects

    settings.CATALOGUE_CACHE_DIR = tmp_path / "cache"
    (tmp_path / "fixtures").mkdir()
    root = write_catalogue(tmp_path / "fixtures", FRANKFURT_LYON)
    first = catalogue_objects(root, gazetteer=FakeGazetteer())
    (cached,) = (tmp_path / "cache").glob("catalogue-*.json")
    assert catalogue_objects(root, gazetteer=None) == first  # read back, not rebuilt
    (root / "twinnings" / "t.csv").write_text(TWINNINGS_HEADER)
    rebuilt = catalogue_objects(root, gazetteer=FakeGazetteer())
    assert not any(o["model"] == "activities.twinning" for o in rebuilt)
    assert not cached.exists()  # the stale build is gone

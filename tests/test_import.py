"""import_twinnings on small CSV files (tests/data/) and a small GeoNames gazetteer."""

import csv
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activities.importing import WIKIPEDIA_SOURCE
from activities.management.commands.import_twinnings import Command
from activities.models import Source, Twinning
from cities.countries import resolve_country
from cities.gazetteer import Gazetteer, fold, parse_place_name
from cities.models import City

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def small_gazetteer():
    rows = json.loads((DATA / "geonames_small.json").read_text("utf-8"))
    return Gazetteer(rows=rows)


@pytest.fixture
def run_import(db, small_gazetteer, monkeypatch, tmp_path):
    """call_command('import_twinnings') on a file of tests/data, with the small gazetteer."""
    monkeypatch.setattr(Command, "gazetteer", lambda self: small_gazetteer)
    report = tmp_path / "report.csv"

    def run(name, *args):
        call_command("import_twinnings", str(DATA / name), "--report", str(report), *args)
        if not report.exists():
            return []
        with report.open(encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    run.report = report
    return run


def pair_names():
    return {
        frozenset((t.city_a.name, t.city_b.name))
        for t in Twinning.objects.select_related("city_a", "city_b")
    }


# Countries and place names -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("England", "GB"),
        ("Scotland, United Kingdom", "GB"),
        ("Wales", "GB"),
        ("Northern Ireland, United Kingdom", "GB"),
        ("Kosovo", "XK"),
        ("Palestine", "PS"),
        ("West Bank", "PS"),
        ("Northern Cyprus", "CY"),
        ("Georgia (country)", "GE"),
        ("Czech Republic", "CZ"),
        ("Republic of Ireland", "IE"),
        ("in Italy", "IT"),
        ("Réunion, France", "RE"),
        ("Brandenburg, Germany", "DE"),
        ("Germany", "DE"),
    ],
)
def test_country_names_and_aliases_resolve_to_iso_codes(text, code):
    assert resolve_country(text)[0] == code


def test_unknown_country_resolves_to_nothing():
    assert resolve_country("Atlantis") == ()
    assert resolve_country("") == ()


def test_territory_is_searched_after_its_country():
    assert resolve_country("Finland") == ("FI", "AX")


def test_fold_merges_romanian_cedilla_and_comma_and_abbreviations():
    assert fold("Timişoara") == fold("Timișoara") == "timisoara"
    assert fold("St. Denis") == fold("Saint-Denis")
    assert fold("Łódź") == "lodz"


@pytest.mark.parametrize(
    ("raw", "name", "parent", "kind"),
    [
        ("Świdnica (rural gmina)", "Świdnica", "", "municipality"),
        ("Mitino (Moscow)", "Mitino", "Moscow", ""),
        ("Berlin – Spandau", "Spandau", "Berlin", ""),
        ("Haaren -- Esch", "Esch", "Haaren", ""),
        ("Salisbury, Maryland", "Salisbury", "Maryland", ""),
        ("Budapest XV", "Budapest XV", "Budapest", ""),
        ("Maui County", "Maui County", "", "region"),
    ],
)
def test_place_names_lose_their_qualifiers(raw, name, parent, kind):
    parsed = parse_place_name(raw)
    assert (parsed.name, parsed.parent, parsed.kind) == (name, parent, kind)


# The import --------------------------------------------------------------------------


def test_import_resolves_country_aliases_and_reports_the_unknown(run_import, capsys):
    report = run_import("twinnings_aliases.csv")

    assert pair_names() == {
        frozenset(("Coventry", "Prizren")),
        frozenset(("Edinburgh", "Bethlehem")),
        frozenset(("Cardiff", "Kyrenia")),
        frozenset(("Tbilisi", "Paris")),
    }
    assert City.objects.get(name="Prizren").country.code == "XK"
    # Bethlehem in Palestine, not the more populous one in Pennsylvania.
    assert City.objects.get(name="Bethlehem").geonames_id == 282457
    assert City.objects.get(name="Kyrenia").country.code == "CY"
    rejected = [r for r in report if r["outcome"] == "rejected"]
    assert len(rejected) == 1
    assert rejected[0]["line"] == "6"
    assert "Atlantis" in rejected[0]["reason"]
    out = capsys.readouterr().out
    assert "Rows read: 5" in out
    assert "Countries not recognised: 'Atlantis' (1)" in out


def test_imported_cities_come_from_geonames_and_cite_the_dataset(run_import):
    run_import("twinnings_aliases.csv")

    coventry = City.objects.get(geonames_id=2652221)
    assert (coventry.name, coventry.country.code) == ("Coventry", "GB")
    assert coventry.slug == "coventry-gb"
    assert float(coventry.latitude) == pytest.approx(52.40656)
    assert coventry.population == 359262
    assert coventry.is_published
    source = Source.objects.get(key=WIKIPEDIA_SOURCE["key"])
    assert source.kind == "dataset"
    assert "Wikipedia contributors" in source.publisher
    assert set(Twinning.objects.values_list("review_state", flat=True)) == {"published"}
    assert source.twinnings.count() == Twinning.objects.count() == 4
    assert Twinning.history.filter(history_type="+").count() == 4


def test_spellings_of_one_pair_fold_into_one_twinning(run_import):
    run_import("twinnings_spellings.csv")

    # "Timişoara"/"Timișoara" and "England"/"England, United Kingdom": one pair.
    timisoara = City.objects.get(geonames_id=665087)
    assert Twinning.objects.involving(timisoara).count() == 1
    # Both spellings normalise alike, so one row holds them; GeoNames adds the exonyms.
    names = set(timisoara.names.values_list("name", flat=True))
    assert names == {"Timişoara", "Temesvar"}
    assert list(City.objects.search("Timișoara")) == [timisoara]
    assert list(City.objects.search("Temesvar")) == [timisoara]


def test_qualifiers_are_stripped_and_districts_fold_with_their_city(run_import):
    run_import("twinnings_spellings.csv")

    swidnica = City.objects.get(geonames_id=3083829)
    assert swidnica.kind == "municipality"
    # "Berlin – Mitte" and "Mitte (Berlin)": one district, placed at Berlin.
    mitte = City.objects.get(name="Mitte")
    assert (mitte.country.code, mitte.subdivision, mitte.geonames_id) == ("DE", "Berlin", None)
    assert float(mitte.latitude) == pytest.approx(52.52437)
    assert "Berlin" in mitte.notes
    assert Twinning.objects.between(swidnica, mitte).count() == 1
    assert Twinning.objects.involving(mitte).count() == 1


def test_ambiguous_names_prefer_the_most_populous_unless_qualified(run_import):
    run_import("twinnings_spellings.csv")

    # "Portland" is Oregon's; "Portland, Maine" is Maine's.
    assert City.objects.filter(geonames_id=5746545).exists()
    assert City.objects.get(geonames_id=4975802).subdivision == "Maine"
    # "Frankfurt" is Frankfurt am Main; "Frankfurt (Oder)" is the one on the Oder.
    assert City.objects.filter(geonames_id__in=[2925533, 2925535]).count() == 2
    assert pair_names() >= {
        frozenset(("Portland", "Frankfurt am Main")),
        frozenset(("Portland", "Frankfurt (Oder)")),
    }
    # Two Salisburys, told apart by their states.
    salisburys = City.objects.filter(name="Salisbury")
    assert {c.geonames_id for c in salisburys} == {4366476, 4488762}
    assert len({c.slug for c in salisburys}) == 2


def test_pair_of_a_place_with_itself_is_rejected_and_reported(run_import):
    report = run_import("twinnings_spellings.csv")

    timisoara = City.objects.get(geonames_id=665087)
    assert not Twinning.objects.filter(city_a=timisoara, city_b=timisoara).exists()
    rejected = [r for r in report if r["outcome"] == "rejected"]
    assert [r["line"] for r in rejected] == ["10"]
    assert "one place" in rejected[0]["reason"]


def test_unlocated_place_is_created_without_coordinates_and_reported(run_import):
    report = run_import("twinnings_spellings.csv")

    nowhere = City.objects.get(name="Nowhereville")
    assert (nowhere.latitude, nowhere.longitude, nowhere.geonames_id) == (None, None, None)
    assert not nowhere.is_located
    assert Twinning.objects.involving(nowhere).count() == 1
    unlocated = [r for r in report if r["outcome"] == "imported, place not located"]
    assert [r["city1"] for r in unlocated] == ["Nowhereville"]


def test_pair_in_reverse_order_of_a_curated_one_keeps_the_curated_record(run_import, twinned_pair):
    run_import("twinnings_reversed.csv")

    twinned_pair.refresh_from_db()
    assert Twinning.objects.involving(twinned_pair.city_a).count() == 1
    # The curated record wins (its city order and year) and gains the dataset source.
    assert (twinned_pair.city_a.name, twinned_pair.start_year) == ("Coventry", 1944)
    assert set(twinned_pair.sources.values_list("key", flat=True)) == {
        "test-source",
        WIKIPEDIA_SOURCE["key"],
    }
    # Catalogue cities are reused rather than duplicated.
    assert City.objects.filter(name="Volgograd").count() == 1
    assert pair_names() == {frozenset(("Coventry", "Volgograd")), frozenset(("Volgograd", "Paris"))}


def test_second_run_creates_nothing(run_import, capsys):
    run_import("twinnings_spellings.csv")
    counts = (City.objects.count(), Twinning.objects.count(), Twinning.history.count())
    capsys.readouterr()

    run_import("twinnings_spellings.csv")

    assert (City.objects.count(), Twinning.objects.count(), Twinning.history.count()) == counts
    out = capsys.readouterr().out
    assert "Pairs created: 0" in out
    assert f"Pairs already present: {Twinning.objects.count()}" in out


def test_dry_run_writes_nothing(run_import, capsys):
    report = run_import("twinnings_spellings.csv", "--dry-run")

    assert City.objects.count() == 0
    assert Twinning.objects.count() == 0
    assert Source.objects.count() == 0
    assert Twinning.history.count() == 0
    out = capsys.readouterr().out
    assert "Dry run: nothing written." in out
    assert "Pairs would be created: 7" in out
    # The report was asked for explicitly, so it is written; the database is not.
    assert any(r["outcome"] == "rejected" for r in report)


def test_column_names_are_options(run_import):
    run_import(
        "twinnings_renamed_columns.csv",
        "--city1-column=town",
        "--country1-column=nation",
        "--city2-column=partner",
        "--country2-column=partner_nation",
    )
    assert pair_names() == {frozenset(("Coventry", "Paris"))}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("twinnings_missing_column.csv", "lacks the column(s) country2"),
        ("twinnings_latin1.csv", "is not UTF-8"),
        ("twinnings_header_only.csv", "no rows"),
        ("does_not_exist.csv", "Cannot read"),
    ],
)
def test_bad_file_fails_with_exit_status_1_and_leaves_the_database_untouched(
    run_import, twinned_pair, name, message
):
    before = (City.objects.count(), Twinning.objects.count(), Source.objects.count())

    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        run_import(name)

    assert raised.value.returncode == 1
    assert (City.objects.count(), Twinning.objects.count(), Source.objects.count()) == before
    assert not run_import.report.exists()


def test_history_rows_copy_the_created_twinnings(run_import):
    run_import("twinnings_aliases.csv")

    for twinning in Twinning.objects.all():
        (record,) = twinning.history.all()
        assert record.history_type == "+"
        assert (record.city_a_id, record.city_b_id) == (twinning.city_a_id, twinning.city_b_id)
        assert record.review_state == "published"
        assert record.history_change_reason == f"Imported from {WIKIPEDIA_SOURCE['key']}"
        assert record.history_date is not None

"""The curated catalogue (fixtures/) loads idempotently, is honest and meets the floors of
its issue."""

import csv
import datetime
import io
import re
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q

from activities.models import (
    Activity,
    ActivityKind,
    Agreement,
    AgreementParty,
    Membership,
    Network,
    NetworkScope,
    Source,
    Theme,
    Twinning,
)
from cities.models import City
from cities.regions import Region
from tests.records import records_for_the_module

THIS_YEAR = datetime.date.today().year


@pytest.fixture(scope="module")
def module_loaded_catalogue(django_db_setup, django_db_blocker):
    """The whole catalogue, loaded once for this module into an empty database (and
    rolled back after it: conftest.records_for_the_module); returns the load's report."""

    def load():
        assert City.objects.count() == 0
        report = io.StringIO()
        call_command("load_catalogue", stdout=report)
        return report.getvalue()

    with records_for_the_module(django_db_blocker, load) as report:
        yield report
    if connection.vendor == "postgresql":
        # The rolled-back load leaves 200,000 dead rows behind, and this test server
        # runs without autovacuum: a later module's search for city names starting
        # with "a" then walked them 62,000 times (5.6 s a query, its plan made from the
        # tables' empty statistics). VACUUM clears them, as autovacuum would.
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


pytestmark = pytest.mark.usefixtures("module_loaded_catalogue")


@pytest.fixture(autouse=True)
def _db_access(db):
    """Each test reads the module's catalogue inside its own rolled-back transaction."""


CATALOGUE_MODELS = [
    City,
    Source,
    Theme,
    Network,
    Membership,
    Agreement,
    AgreementParty,
    Twinning,
    Activity,
]


def snapshot():
    return {model: list(model.objects.order_by("pk").values()) for model in CATALOGUE_MODELS}


def test_the_catalogue_loads_into_an_empty_database_and_again_changes_nothing(
    module_loaded_catalogue,
):
    assert re.search(r"cities: [1-9]\d* new", module_loaded_catalogue)
    first = snapshot()
    assert first[City] and first[Twinning]
    report = io.StringIO()
    call_command("load_catalogue", stdout=report)
    assert snapshot() == first
    # Nothing is even rewritten: fields the model works out (a twinning's copied
    # countries, timestamps) are not compared with the fixtures, which never set them.
    assert re.findall(r"(\d+) updated", report.getvalue()) == ["0"] * len(
        re.findall(r"updated", report.getvalue())
    )
    assert " 0 new" in report.getvalue()


def test_no_built_catalogue_is_committed():
    """The catalogue is built from the CSV files on load; nothing generated is tracked."""
    root = settings.BASE_DIR
    tracked = subprocess.run(
        ["git", "ls-files", "fixtures"], cwd=root, capture_output=True, text=True, check=False
    )
    if tracked.returncode:
        pytest.skip("not a git checkout")
    assert not [name for name in tracked.stdout.split() if name.endswith(".json")]


@pytest.mark.parametrize(
    "model", [City, Network, Membership, Agreement, Twinning, Activity], ids=lambda m: m.__name__
)
def test_every_record_cites_a_source_with_a_title_and_url(model):
    without = model.objects.annotate(n=Count("sources")).filter(n=0)
    assert list(without[:10]) == []
    assert not Source.objects.filter(Q(url="") | Q(title="")).exists()
    assert not Source.objects.exclude(url__startswith="http").exists()


def test_city_floors():
    assert City.objects.count() >= 300
    assert City.objects.values("country").distinct().count() >= 80
    assert City.objects.filter(is_capital=True).count() >= 60
    inhabited = {r for r in Region if r != Region.ANTARCTICA}
    assert {c.region for c in City.objects.only("country")} >= inhabited


def test_cities_listed_by_geonames_have_coordinates_and_population():
    listed = City.objects.filter(geonames_id__isnull=False)
    assert listed.count() >= 300
    assert not listed.filter(latitude__isnull=True).exists()
    # GeoNames records a population for nearly every place (0 means unknown there).
    assert listed.filter(population__isnull=True).count() <= listed.count() // 100


def test_network_floors():
    assert Network.objects.count() >= 40
    scopes = set(Network.objects.values_list("scope", flat=True))
    assert scopes == set(NetworkScope.values)
    assert Network.objects.filter(closed_year__isnull=False).exists()
    assert Network.objects.filter(merged_into__isnull=False).exists()
    assert not Network.objects.filter(founded_year__isnull=True).exists()


def test_membership_floors_and_real_member_lists():
    assert Membership.objects.count() >= 800
    for slug in ("c40", "eurocities", "unesco-creative-cities", "ubc", "mercociudades"):
        assert Membership.objects.filter(network__slug=slug).count() >= 20, slug
    creative = Membership.objects.filter(network__slug="unesco-creative-cities")
    assert not creative.filter(category="").exists()
    # A designation year is left empty where sources disagree, never guessed.
    assert creative.filter(joined_year__isnull=True).count() <= creative.count() // 10


def test_twinning_floors():
    assert Twinning.objects.count() >= 600
    ended = Twinning.objects.filter(status__in=["suspended", "terminated"])
    assert ended.count() >= 40
    assert not ended.filter(status_year__isnull=True).exists()
    regions = set()
    for a, b in Twinning.objects.values_list("city_a__country", "city_b__country"):
        regions |= {City(country=a).region, City(country=b).region}
    assert regions >= {r for r in Region if r != Region.ANTARCTICA}


def test_agreement_floors():
    assert Agreement.objects.count() >= 80
    assert Agreement.objects.filter(kind__in=["pact", "declaration"]).exists()
    assert Agreement.objects.filter(kind__in=["cooperation", "mou", "friendship"]).exists()
    assert AgreementParty.objects.count() >= 80


def test_activity_floors():
    assert Activity.objects.count() >= 120
    assert set(Activity.objects.values_list("kind", flat=True)) == set(ActivityKind.values)


def test_theme_floors():
    assert Theme.objects.count() >= 15
    assert Theme.objects.values("field").distinct().count() == 5


def test_no_twinning_pair_appears_twice_in_either_order():
    pairs = [frozenset(p) for p in Twinning.objects.values_list("city_a", "city_b")]
    assert len(pairs) == len(set(pairs))
    assert not Twinning.objects.filter(city_a=F("city_b")).exists()


def test_no_membership_is_duplicated():
    duplicated = Membership.objects.values("network", "city").annotate(n=Count("id"))
    assert not duplicated.filter(n__gt=1).exists()


@pytest.mark.parametrize(
    ("model", "start", "end"),
    [
        (Network, "founded_year", "closed_year"),
        (Membership, "joined_year", "left_year"),
        (Twinning, "start_year", "status_year"),
        (Agreement, "signed_year", "status_year"),
        (Activity, "start_year", "end_year"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_years_are_plausible(model, start, end):
    assert not model.objects.filter(**{f"{start}__gt": THIS_YEAR}).exists()
    assert not model.objects.filter(**{f"{end}__gt": THIS_YEAR}).exists()
    assert not model.objects.filter(**{f"{end}__lt": F(start)}).exists()
    assert not model.objects.filter(**{f"{start}__lt": 800}).exists()


def test_every_city_with_a_geonames_id_cites_its_own_geonames_page():
    cited = set(
        City.objects.filter(sources__url__startswith="https://www.geonames.org/").values_list(
            "geonames_id", "sources__url"
        )
    )
    wanted = {
        (geonames_id, f"https://www.geonames.org/{geonames_id}")
        for geonames_id in City.objects.filter(geonames_id__isnull=False).values_list(
            "geonames_id", flat=True
        )
    }
    assert wanted <= cited
    # The GeoNames homepage is no longer a city's source where the city has an id.
    homepage = City.objects.filter(sources__url="https://www.geonames.org/")
    assert not homepage.filter(geonames_id__isnull=False).exists()


# Floors of issue 11 ("Dated, evidenced ties").
# - 1,500 dated twinnings: reached (curated from the cities' own pages).
# - 1,000 agreement parties: reached.
# - 60% of curated twinnings citing a page about that city's partnerships: reached.
# - 60% of memberships citing a page about that membership: reached (about 64%; about 38% cite
#   a page about that one city's membership, the rest a dated announcement naming the city).
#   Most of the others cite only a network's member list.
# - Eurocities listing 95% of the network's current members: reached.
DATED_TWINNINGS = 1_500
AGREEMENT_PARTIES = 1_000
SPECIFIC_TWINNING_SHARE = 0.60
SPECIFIC_MEMBERSHIP_SHARE = 0.60
EUROCITIES_COMPLETENESS = 0.95
#: The source files that hold only pages about the membership of the cities they name: the
#: network's or the city's page about one membership, and dated announcements of the cities
#: that joined a network or took one of its offices (fixtures/README.md). A network's list
#: of all its members is in neither.
MEMBERSHIP_SPECIFIC_SOURCE_FILES = ("memberships_specific.csv", "memberships_announcements.csv")
#: The source that gives Eurocities' member count: the network's member directory.
EUROCITIES_MEMBER_LIST = "ds-cityvote-eurocities-members"
#: Sources that cover a whole country, continent or dataset rather than one city's ties.
AGGREGATE_TWINNING_SOURCE = re.compile(r"^(wiki-twins-|hekman-)")


def test_issue_11_floors():
    assert Twinning.objects.filter(start_year__isnull=False).count() >= DATED_TWINNINGS
    assert AgreementParty.objects.count() >= AGREEMENT_PARTIES


def test_most_curated_twinnings_cite_a_page_about_that_city_s_partnerships():
    specific = (
        Twinning.objects.filter(sources__isnull=False)
        .exclude(sources__kind="dataset")
        .values_list("pk", "sources__key")
    )
    with_specific = {pk for pk, key in specific if not AGGREGATE_TWINNING_SOURCE.match(key)}
    share = len(with_specific) / Twinning.objects.count()
    assert share >= SPECIFIC_TWINNING_SHARE, f"{share:.0%}"


def membership_specific_source_keys():
    keys = set()
    for name in MEMBERSHIP_SPECIFIC_SOURCE_FILES:
        path = settings.BASE_DIR / "fixtures" / "sources" / name
        with path.open(newline="", encoding="utf-8") as rows:
            keys |= {row["key"] for row in csv.DictReader(rows)}
    return keys


def test_most_memberships_cite_a_page_about_that_membership():
    keys = membership_specific_source_keys()
    assert Source.objects.filter(key__in=keys).count() == len(keys)
    with_specific = Membership.objects.filter(sources__key__in=keys).distinct().count()
    share = with_specific / Membership.objects.count()
    assert share >= SPECIFIC_MEMBERSHIP_SHARE, f"{share:.0%}"


def test_eurocities_lists_its_current_members_against_the_count_it_records():
    eurocities = Network.objects.get(slug="eurocities")
    member_list = eurocities.sources.get(key=EUROCITIES_MEMBER_LIST)
    listed = eurocities.memberships.filter(left_year__isnull=True, sources=member_list)
    assert eurocities.member_count
    assert listed.count() >= EUROCITIES_COMPLETENESS * eurocities.member_count


#: Networks of under 200 members whose whole member list was found on one page (issue 11: "every
#: other network of under 200 members whose member list is published on one page is complete
#: too"), each held to 95% of the member count it records. 100 Resilient Cities closed in 2019:
#: its count is the 100 cities of its last round, none of which has a leaving year here.
#: The others are listed, with the reason they are not complete, in docs/factcheck-2026-11.md.
COMPLETE_SMALL_NETWORKS = ("ubc", "ucci", "100-resilient-cities")


@pytest.mark.parametrize("slug", COMPLETE_SMALL_NETWORKS)
def test_small_networks_with_a_published_list_hold_95_percent_of_their_count(slug):
    network = Network.objects.get(slug=slug)
    assert network.member_count and network.member_count < 200
    assert network.sources.exists()
    current = network.memberships.filter(left_year__isnull=True)
    assert current.values("city").distinct().count() >= 0.95 * network.member_count


def test_every_dated_twinning_cites_a_source_with_a_url():
    dated = Twinning.objects.filter(start_year__isnull=False)
    assert not dated.filter(sources__isnull=True).exists()
    assert not dated.filter(sources__url="").exists()


def test_no_membership_is_left_unverified():
    assert not Membership.objects.filter(notes__icontains="not verified").exists()


def test_conflicting_values_cite_sources_and_differ_from_the_records():
    from activities.catalogue import model_errors
    from activities.models import ConflictingValue

    for value in ConflictingValue.objects.prefetch_related("sources"):
        assert value.sources.all(), value
        assert model_errors(value) == [], value


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("Kiev", "kyiv-ua"),
        ("Muenchen", "munich-de"),
        ("Köln", "cologne-de"),
        ("Bombay", "mumbai-in"),
        ("new york", "new-york-city-us"),
        ("saint petersburg", "saint-petersburg-ru"),
        ("St Petersburg", "saint-petersburg-ru"),
        ("Leningrad", "saint-petersburg-ru"),
    ],
)
def test_the_curated_cities_are_found_by_geonames_other_names(query, slug):
    assert City.objects.published().search(query).first().slug == slug

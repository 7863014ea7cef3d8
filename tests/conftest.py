import contextlib
import copy
import itertools

import pytest
from django.conf import settings
from django.core.cache import cache

from activities.models import Network, Source, Twinning
from tests.records import new_city, records_for_the_module, write_catalogue


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    """pytest-django's test databases, copied from a migrated template (see
    tests/database_template.py) rather than migrated by each worker on each run."""
    from django.test.utils import setup_databases, teardown_databases

    from tests.database_template import test_database_from_template

    verbosity = request.config.option.verbose
    with contextlib.ExitStack() as stack:
        with django_db_blocker.unblock():
            stack.enter_context(test_database_from_template())
            config = setup_databases(verbosity=verbosity, interactive=False, keepdb=True)
        yield
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=verbosity)


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete_on_postgresql():
    """After each transactional test (the browser tests, backups, migrations) Django
    empties every table with one TRUNCATE, which on PostgreSQL gives each of the ~60
    tables new files: 1.4-1.7 s a test on this 2-core machine, against 0.02-0.04 s for
    DELETE of the few rows a test wrote (what Django does on SQLite). Django's foreign
    keys are deferrable, so the order of the DELETEs does not matter."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            "SET CONSTRAINTS ALL DEFERRED",
            *(f"{style.SQL_KEYWORD('DELETE FROM')} {self.quote_name(t)};" for t in tables),
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a test's rolled-back transaction takes the
    catalogue version back with it, and the next test would meet pages cached under a
    number it reaches again with other data."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def source(db):
    return Source.objects.create(
        key="test-source",
        title="Test source",
        url="https://example.org/source",
        publisher="Example",
        kind="reference",
    )


@pytest.fixture
def make_city(db):
    return new_city


@pytest.fixture
def twinned_pair(make_city, source):
    coventry = make_city("Coventry", "GB", slug="coventry-gb")
    volgograd = make_city("Volgograd", "RU", slug="volgograd-ru")
    twinning = Twinning.objects.create(
        city_a=coventry, city_b=volgograd, kind="twin_town", start_year=1944
    )
    twinning.sources.add(source)
    return twinning


@pytest.fixture
def network(db, make_city, source):
    network = Network.objects.create(
        name="Test Network", slug="test-network", scope="global", founded_year=1990
    )
    network.sources.add(source)
    return network


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}"


# Records shared by a module's tests -------------------------------------------------------
#
# Writing the same records again for each of hundreds of tests was most of the suite's
# time. A `module_*` fixture writes them once per test module (and xdist worker) inside
# a transaction that each test's own transaction nests in, as a savepoint, and rolls
# them back after the module: what Django's TestCase.setUpTestData does for a class.
# Each test gets its own copy of the Python objects (a test may change one), and
# pytest_collection_modifyitems runs a module's tests that use no shared records
# before those that do, so that none of them meets records it did not ask for.


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Within each module, tests using more `module_*` records run later (see above).

    Only consecutive tests of one module are reordered: pytest-django has put the tests
    that flush the database (transactional ones) after all others, and they stay there.
    The browser tests go last of all: their browser lives until the session ends.
    """

    def module(item):
        return item.nodeid.partition("::")[0]

    def shared(item):
        return {name for name in getattr(item, "fixturenames", ()) if name.startswith("module_")}

    ordered = []
    for name, run in itertools.groupby(items, key=module):
        run = list(run)
        levels = sorted({frozenset(shared(item)) for item in run}, key=len)
        if any(not low <= high for low, high in itertools.pairwise(levels)):
            raise pytest.UsageError(f"{name}: tests share module records that do not nest")
        ordered += sorted(run, key=lambda item: len(shared(item)))
    items[:] = sorted(ordered, key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="module")
def module_catalogue(django_db_setup, django_db_blocker):
    with records_for_the_module(django_db_blocker, write_catalogue) as records:
        yield records


@pytest.fixture
def catalogue(module_catalogue, db):
    """A small catalogue with every kind of record, some drafts, and links across them.

    Returns a namespace of the records by short name, for tests that compare what a
    list page shows with what the ORM says. Written once per module (see above).
    """
    return copy.deepcopy(module_catalogue)


@pytest.fixture
def small_catalogue(make_city, source):
    """A few published records of every kind, each with a draft neighbour that public
    pages must not show."""
    from activities.models import Activity, Agreement, AgreementParty, Membership, Theme

    coventry = make_city(
        "Coventry",
        "GB",
        slug="coventry-gb",
        latitude="52.40656",
        longitude="-1.51217",
        population=345324,
        alternate_names="Cofentreu",
    )
    volgograd = make_city(
        "Volgograd", "RU", slug="volgograd-ru", latitude="48.71939", longitude="44.50183"
    )
    dresden = make_city("Dresden", "DE", slug="dresden-de", latitude="51.05", longitude="13.74")
    kiel = make_city("Kiel", "DE", slug="kiel-de", latitude="54.32", longitude="10.13")
    hidden = make_city("Hiddenville", "FR", slug="hiddenville-fr", review_state="draft")
    coventry.sources.add(source)

    peace = Theme.objects.create(name="Peace", slug="peace", field="politics")
    volgograd_link = Twinning.objects.create(
        city_a=coventry,
        city_b=volgograd,
        kind="twin_town",
        start_year=1944,
        status="suspended",
        status_year=2022,
        status_reason="Russia's invasion of Ukraine.",
        status_act="Council resolution of 22 March 2022",
    )
    volgograd_link.sources.add(source)
    volgograd_link.themes.add(peace)
    dresden_link = Twinning.objects.create(
        city_a=dresden, city_b=coventry, kind="twin_town", start_year=1959
    )
    draft_link = Twinning.objects.create(
        city_a=coventry, city_b=kiel, start_year=1967, review_state="draft"
    )
    hidden_link = Twinning.objects.create(city_a=coventry, city_b=hidden, start_year=1970)

    network = Network.objects.create(
        name="Cities for Peace",
        acronym="CFP",
        slug="cities-for-peace",
        scope="global",
        founded_year=1982,
        headquarters=coventry,
    )
    network.sources.add(source)
    network.themes.add(peace)
    predecessor = Network.objects.create(
        name="Old League",
        slug="old-league",
        scope="regional",
        founded_year=1950,
        closed_year=1990,
        merged_into=network,
    )
    draft_network = Network.objects.create(
        name="Draft Network", slug="draft-network", scope="global", review_state="draft"
    )
    Membership.objects.create(network=network, city=coventry, role="chair", joined_year=1982)
    Membership.objects.create(network=network, city=dresden, joined_year=1990)
    Membership.objects.create(network=network, city=volgograd, joined_year=1995)
    Membership.objects.create(network=network, city=kiel, review_state="draft")
    Membership.objects.create(network=network, city=hidden)

    pact = Agreement.objects.create(
        title="Peace Pact",
        slug="peace-pact",
        kind="pact",
        signed_year=2015,
        status="in_force",
        network=network,
        text_url="https://example.org/peace-pact.pdf",
    )
    pact.sources.add(source)
    pact.themes.add(peace)
    AgreementParty.objects.create(agreement=pact, city=coventry, action="signed", year=2015)
    AgreementParty.objects.create(agreement=pact, city=dresden, action="endorsed", year=2016)
    AgreementParty.objects.create(agreement=pact, city=hidden, action="signed", year=2015)
    draft_pact = Agreement.objects.create(
        title="Secret Pact", slug="secret-pact", kind="pact", review_state="draft"
    )

    aid = Activity.objects.create(
        title="Aid to Ukrainian cities",
        slug="aid-to-ukrainian-cities",
        kind="humanitarian",
        lead_city=coventry,
        start_year=2022,
        budget=250000,
        budget_currency="GBP",
    )
    aid.partner_cities.add(dresden, hidden)
    aid.sources.add(source)
    aid.themes.add(peace)
    draft_activity = Activity.objects.create(
        title="Draft mission", slug="draft-mission", kind="trade_mission", review_state="draft"
    )
    return {
        "coventry": coventry,
        "volgograd": volgograd,
        "dresden": dresden,
        "kiel": kiel,
        "hidden": hidden,
        "theme": peace,
        "volgograd_link": volgograd_link,
        "dresden_link": dresden_link,
        "draft_link": draft_link,
        "hidden_link": hidden_link,
        "network": network,
        "predecessor": predecessor,
        "draft_network": draft_network,
        "pact": pact,
        "draft_pact": draft_pact,
        "activity": aid,
        "draft_activity": draft_activity,
    }


def _staff_in_group(django_user_model, username, group_name):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def editor(db, django_user_model):
    """A member of the Editors group (created by the activities data migration)."""
    return _staff_in_group(django_user_model, "editor", "Editors")


@pytest.fixture
def chief_editor(db, django_user_model):
    return _staff_in_group(django_user_model, "chief", "Chief editors")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def chief_client(client, chief_editor):
    client.force_login(chief_editor)
    return client


@pytest.fixture
def draft_links(make_city):
    """Published records linked to drafts: a draft headquarters, successor network,
    signing place, network behind an agreement, lead city. No draft may be named."""
    from types import SimpleNamespace

    from activities.models import Activity, Agreement

    d = SimpleNamespace()
    d.draft_city = make_city("Secretville", "NO", slug="secretville-no", review_state="draft")
    d.draft_network = Network.objects.create(
        name="Secret Alliance", slug="secret-alliance", scope="global", review_state="draft"
    )
    d.network = Network.objects.create(
        name="Open Network",
        slug="open-network",
        scope="global",
        founded_year=1990,
        closed_year=2000,
        founding_place=d.draft_city,
        headquarters=d.draft_city,
        merged_into=d.draft_network,
    )
    d.agreement = Agreement.objects.create(
        title="Open Pact",
        slug="open-pact",
        kind="pact",
        signed_year=2015,
        place=d.draft_city,
        network=d.draft_network,
    )
    d.activity = Activity.objects.create(
        title="Open Mission",
        slug="open-mission",
        kind="trade_mission",
        start_year=2010,
        lead_city=d.draft_city,
        place=d.draft_city,
    )
    return d

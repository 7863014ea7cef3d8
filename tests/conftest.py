import contextlib
import copy
import itertools

import pytest
from django.conf import settings
from django.core.cache import cache

from activities.models import Network, Twinning
from tests.records import (
    cited_source,
    new_city,
    records_for_the_module,
    without_history,
    write_catalogue,
    write_small_catalogue,
)


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
    """The test source: the one the small catalogue cites, if the test has it."""
    return cited_source()


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
    with records_for_the_module(django_db_blocker, without_history(write_catalogue)) as records:
        yield records


@pytest.fixture
def catalogue(module_catalogue, db):
    """A small catalogue with every kind of record, some drafts, and links across them.

    Returns a namespace of the records by short name, for tests that compare what a
    list page shows with what the ORM says. Written once per module (see above).
    """
    return copy.deepcopy(module_catalogue)


@pytest.fixture(scope="module")
def module_small_catalogue(django_db_setup, django_db_blocker):
    with records_for_the_module(
        django_db_blocker, without_history(lambda: write_small_catalogue(cited_source()))
    ) as records:
        yield records


@pytest.fixture
def small_catalogue(module_small_catalogue, db):
    """A few published records of every kind, each with a draft neighbour that public
    pages must not show, by short name (tests/records.py). Written once per module (see
    above): a module whose other tests use `catalogue`, which holds the same cities,
    writes it for each test instead (tests/test_api.py)."""
    return copy.deepcopy(module_small_catalogue)


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

import itertools

import pytest
from django.conf import settings

from activities.models import Network, Source, Twinning
from cities.models import City

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    def make(name=None, country="FR", **fields):
        n = next(_counter)
        name = name or f"Town {n}"
        fields.setdefault("slug", f"{name.lower().replace(' ', '-')}-{country.lower()}-{n}")
        return City.objects.create(name=name, country=country, **fields)

    return make


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

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

"""Records for the tests, written by the fixtures of conftest.py."""

import contextlib
import itertools
import sys

from django.db import connection, transaction
from django.test import override_settings

from activities.models import Network, Source, Twinning
from cities.models import City, CityName, NameSource

_counter = itertools.count(1)


def new_city(name=None, country="FR", **fields):
    n = next(_counter)
    name = name or f"Town {n}"
    fields.setdefault("slug", f"{name.lower().replace(' ', '-')}-{country.lower()}-{n}")
    other_names = fields.pop("alternate_names", "").splitlines()
    city = City.objects.create(name=name, country=country, **fields)
    CityName.objects.add([(city.pk, other) for other in other_names], NameSource.EDITOR)
    return city


def cited_source():
    """The source test records cite: one per test database, got or created."""
    source, _ = Source.objects.get_or_create(
        key="test-source",
        defaults={
            "title": "Test source",
            "url": "https://example.org/source",
            "publisher": "Example",
            "kind": "reference",
        },
    )
    return source


@contextlib.contextmanager
def records_for_the_module(django_db_blocker, write):
    """Yield what `write()` returns, written in a transaction rolled back afterwards:
    the records of a `module_*` fixture (tests/conftest.py). Not for transactional tests,
    whose flush cannot run inside it."""
    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
        try:
            records = write()
            # Check the deferred foreign keys now, once. Left pending, the module's whole
            # queue of checks went through every test's savepoint and teardown check
            # (TestCase) on PostgreSQL: 0.25 s a test after the whole catalogue.
            connection.check_constraints()
        except BaseException:
            block.__exit__(*sys.exc_info())
            raise
    try:
        yield records
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


def without_history(write):
    """`write`, writing no history rows (django-simple-history's post_save and
    m2m_changed handlers stand down): for records that tests read but whose history no
    test looks at, the shared ones of `module_*` fixtures and the browser tests'. The
    history rows were two thirds of the time the small catalogue took to write (0.57 s
    against 0.17 s here, 0.87 s against 0.31 s for the catalogue). Tests about history
    write their own records, with it (twinned_pair, make_city...)."""

    def write_without_history(*args, **kwargs):
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            return write(*args, **kwargs)

    return write_without_history


def write_catalogue():
    from types import SimpleNamespace

    from activities.models import (
        Activity,
        Agreement,
        AgreementParty,
        Membership,
        Theme,
    )

    c = SimpleNamespace()
    c.paris = new_city("Paris", "FR", slug="paris-fr", population=2_100_000, is_capital=True)
    c.lyon = new_city("Lyon", "FR", slug="lyon-fr", population=520_000)
    c.berlin = new_city("Berlin", "DE", slug="berlin-de", population=3_400_000, is_capital=True)
    c.munich = new_city("Munich", "DE", slug="munich-de", population=1_500_000)
    c.coventry = new_city("Coventry", "GB", slug="coventry-gb", population=345_000, kind="town")
    c.volgograd = new_city("Volgograd", "RU", slug="volgograd-ru", population=1_000_000)
    c.tokyo = new_city("Tokyo", "JP", slug="tokyo-jp", population=14_000_000, kind="metropolis")
    c.chicago = new_city("Chicago", "US", slug="chicago-us", population=2_700_000)
    c.hidden = new_city("Hidden Town", "FR", slug="hidden-fr", review_state="draft")

    c.climate = Theme.objects.create(name="Climate", slug="climate", field="culture_environment")
    c.peace = Theme.objects.create(name="Peace", slug="peace", field="security")
    c.trade = Theme.objects.create(name="Trade", slug="trade", field="economy")

    c.c40 = Network.objects.create(
        name="C40 Cities",
        acronym="C40",
        slug="c40",
        scope="global",
        founded_year=2005,
        headquarters=c.chicago,
    )
    c.c40.themes.add(c.climate)
    c.mayors = Network.objects.create(
        name="Mayors for Peace",
        slug="mayors-for-peace",
        scope="global",
        founded_year=1982,
        headquarters=c.tokyo,
    )
    c.mayors.themes.add(c.peace)
    c.eurocities = Network.objects.create(
        name="Eurocities",
        slug="eurocities",
        scope="regional",
        founded_year=1986,
        headquarters=c.berlin,
    )
    c.eurocities.themes.add(c.climate, c.trade)
    c.closed = Network.objects.create(
        name="Closed Cities",
        slug="closed-cities",
        scope="national",
        founded_year=2013,
        closed_year=2019,
        headquarters=c.chicago,
    )
    c.draft_network = Network.objects.create(
        name="Draft Network", slug="draft-network", scope="global", review_state="draft"
    )
    for network, cities in [
        (c.c40, [c.paris, c.berlin, c.tokyo, c.chicago, c.hidden]),
        (c.mayors, [c.paris, c.volgograd, c.tokyo]),
        (c.eurocities, [c.paris, c.lyon, c.berlin, c.munich]),
        (c.closed, [c.chicago]),
        (c.draft_network, [c.coventry]),
    ]:
        for city in cities:
            Membership.objects.create(network=network, city=city)
    Membership.objects.filter(network=c.mayors, city=c.volgograd).update(review_state="draft")

    c.pact = Agreement.objects.create(
        title="Food Pact",
        slug="food-pact",
        kind="pact",
        signed_year=2015,
        status="in_force",
        network=c.c40,
        place=c.lyon,
    )
    c.pact.themes.add(c.climate)
    c.charter = Agreement.objects.create(
        title="Peace Charter",
        slug="peace-charter",
        kind="declaration",
        signed_year=1990,
        status="unknown",
        network=c.mayors,
    )
    c.charter.themes.add(c.peace)
    c.mou = Agreement.objects.create(
        title="Paris Berlin MoU",
        slug="paris-berlin-mou",
        kind="mou",
        signed_year=2001,
        status="expired",
    )
    c.draft_agreement = Agreement.objects.create(
        title="Draft Accord", slug="draft-accord", kind="mou", review_state="draft"
    )
    for agreement, cities in [
        (c.pact, [c.paris, c.lyon, c.munich, c.tokyo, c.hidden]),
        (c.charter, [c.volgograd, c.tokyo]),
        (c.mou, [c.paris, c.berlin]),
        (c.draft_agreement, [c.coventry]),
    ]:
        for city in cities:
            AgreementParty.objects.create(agreement=agreement, city=city, year=2015)

    c.coventry_volgograd = Twinning.objects.create(
        city_a=c.coventry,
        city_b=c.volgograd,
        kind="twin_town",
        start_year=1944,
        status="suspended",
        status_year=2022,
    )
    c.coventry_volgograd.themes.add(c.peace)
    c.paris_berlin = Twinning.objects.create(
        city_a=c.paris, city_b=c.berlin, kind="partner_city", start_year=1987
    )
    c.lyon_munich = Twinning.objects.create(
        city_a=c.munich, city_b=c.lyon, kind="twin_town", start_year=1972
    )
    c.paris_lyon = Twinning.objects.create(
        city_a=c.paris, city_b=c.lyon, kind="friendship_city", start_year=2000
    )
    c.tokyo_chicago = Twinning.objects.create(
        city_a=c.tokyo,
        city_b=c.chicago,
        kind="sister_city",
        start_year=1960,
        status="terminated",
        status_year=1999,
    )
    c.draft_twinning = Twinning.objects.create(
        city_a=c.berlin, city_b=c.tokyo, kind="sister_city", review_state="draft"
    )
    c.twinning_with_draft = Twinning.objects.create(
        city_a=c.munich, city_b=c.hidden, kind="twin_town", start_year=2010
    )

    c.aid = Activity.objects.create(
        title="Water Aid",
        slug="water-aid",
        kind="development",
        lead_city=c.paris,
        start_year=2010,
        end_year=2014,
    )
    c.aid.partner_cities.add(c.lyon, c.tokyo)
    c.aid.themes.add(c.climate)
    c.office = Activity.objects.create(
        title="Tokyo Office",
        slug="tokyo-office",
        kind="office",
        lead_city=c.tokyo,
        start_year=1995,
    )
    c.office.partner_cities.add(c.chicago)
    c.office.themes.add(c.trade)
    c.refuge = Activity.objects.create(
        title="Refuge", slug="refuge", kind="humanitarian", lead_city=c.berlin, start_year=2015
    )
    c.refuge.partner_cities.add(c.munich, c.hidden)
    c.refuge.themes.add(c.peace)
    c.campaign = Activity.objects.create(
        title="No Lead Campaign", slug="no-lead-campaign", kind="campaign", start_year=2020
    )
    c.campaign.partner_cities.add(c.coventry)
    c.draft_activity = Activity.objects.create(
        title="Draft Activity", slug="draft-activity", kind="summit", review_state="draft"
    )
    return c


def write_small_catalogue(source):
    """A few published records of every kind, each with a draft neighbour that public
    pages must not show; `source` cites some of them."""
    from activities.models import Activity, Agreement, AgreementParty, Membership, Theme

    coventry = new_city(
        "Coventry",
        "GB",
        slug="coventry-gb",
        latitude="52.40656",
        longitude="-1.51217",
        population=345324,
        alternate_names="Cofentreu",
    )
    volgograd = new_city(
        "Volgograd", "RU", slug="volgograd-ru", latitude="48.71939", longitude="44.50183"
    )
    dresden = new_city("Dresden", "DE", slug="dresden-de", latitude="51.05", longitude="13.74")
    kiel = new_city("Kiel", "DE", slug="kiel-de", latitude="54.32", longitude="10.13")
    hidden = new_city("Hiddenville", "FR", slug="hiddenville-fr", review_state="draft")
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


def catalogue_sample(size=40):
    """A self-contained slice of the real catalogue (the built fixture objects): every
    conflicting value, the first `size` records of each kind of tie, and whatever they
    link to, with the sources that cite any of it. Real data, a fiftieth of the load.
    """
    from django.apps import apps

    from activities.catalogue import catalogue_objects
    from activities.loading import fixture_key

    objects = catalogue_objects()
    index = {(o["model"], fixture_key(o["model"], o["fields"])): o for o in objects}
    wanted = [o for o in objects if o["model"] == "activities.conflictingvalue"]
    for label in (
        "activities.network",
        "activities.membership",
        "activities.agreement",
        "activities.agreementparty",
        "activities.twinning",
        "activities.activity",
    ):
        wanted += [o for o in objects if o["model"] == label][:size]
    chosen = set()
    while wanted:
        obj = wanted.pop()
        key = (obj["model"], fixture_key(obj["model"], obj["fields"]))
        if key in chosen:
            continue
        chosen.add(key)
        model = apps.get_model(obj["model"])
        for name, value in obj["fields"].items():
            field = model._meta.get_field(name)
            if (
                not field.is_relation
                or not value
                or (model, name) == (apps.get_model("activities.source"), "cities")
            ):
                continue
            target = field.related_model._meta.label_lower
            for linked in value if field.many_to_many else [value]:
                wanted.append(index[(target, tuple(linked))])
    cities = {key[1] for key in chosen if key[0] == "cities.city"}
    sample = []
    for obj in objects:
        fields = obj["fields"]
        if obj["model"] == "activities.source":
            cited = [slug for slug in fields["cities"] if tuple(slug) in cities]
            if cited or ("activities.source", (fields["key"],)) in chosen:
                sample.append({"model": obj["model"], "fields": {**fields, "cities": cited}})
        elif (
            obj["model"] == "activities.theme"
            or (obj["model"], fixture_key(obj["model"], fields)) in chosen
        ):
            sample.append(obj)
    return sample


def load_catalogue_sample(tmp_path):
    """Write catalogue_sample() as a fixture under `tmp_path` and load it."""
    import json

    from django.core.management import call_command

    path = tmp_path / "sample.json"
    path.write_text(json.dumps(catalogue_sample()))
    call_command("load_catalogue", "--fixture", str(path), verbosity=0)
    return path

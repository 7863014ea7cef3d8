"""Random query strings on every public URL never produce a server error."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.models import Activity, Agreement, AgreementParty, Membership, Theme

PARAMETERS = [
    "q", "ordering", "page", "page_size", "format", "country", "region", "kind",
    "population_min", "population_max", "network", "has_twinnings", "capital", "scope",
    "theme", "field", "founded_min", "founded_max", "active", "hq_country", "status",
    "city", "year_min", "year_max", "country_pair", "role", "action", "agreement", "member_in",
]  # fmt: skip

HOSTILE_VALUES = st.sampled_from(
    [
        "", " ", "0", "-1", "-999999999999", "99999999999999999999999", "1e309", "NaN",
        "1'; DROP TABLE cities_city; --", "' OR 1=1 --", "%", "_", "\\", "\x00",
        "<script>alert(1)</script>", "DE-", "-FR", "DE-FR-IT", "XX", "csv", "json", "xml",
        "-name", "--name", "population,-name", "ünïcödé", "北京", "🙂" * 50, "a" * 5000,
        "true", "false", "None", "[]", "{}",
    ]
)  # fmt: skip

VALUES = st.one_of(
    HOSTILE_VALUES,
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
QUERY = st.lists(
    st.tuples(st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=12)), VALUES),
    max_size=6,
)


@pytest.fixture
def public_urls(twinned_pair, network, source):
    city = twinned_pair.city_a
    theme = Theme.objects.create(name="Peace", slug="peace", field="politics")
    Membership.objects.create(network=network, city=city, role="chair")
    agreement = Agreement.objects.create(title="Pact", slug="pact", kind="pact", signed_year=2015)
    AgreementParty.objects.create(agreement=agreement, city=city, action="signed", year=2015)
    activity = Activity.objects.create(title="Summit", slug="summit", kind="summit", lead_city=city)
    for record in (agreement, activity, twinned_pair):
        record.themes.add(theme)
    return [
        "/", "/search/", "/about/", "/cities/", "/networks/", "/agreements/", "/twinnings/",
        "/activities/", city.get_absolute_url(), network.get_absolute_url(),
        agreement.get_absolute_url(), twinned_pair.get_absolute_url(),
        activity.get_absolute_url(), theme.get_absolute_url(), "/memberships/",
        "/agreement-parties/", "/data/", "/api/", "/api/cities/", "/api/networks/",
        "/api/memberships/", "/api/agreements/", "/api/agreement-parties/", "/api/twinnings/",
        "/api/activities/", "/api/themes/", "/api/sources/", f"/api/cities/{city.slug}/",
        f"/api/twinnings/{twinned_pair.pk}/", "/api/schema/",
    ]  # fmt: skip


@pytest.fixture
def django_settings(settings):
    return settings


@pytest.mark.django_db
def test_random_query_strings_never_cause_a_server_error(client, public_urls, django_settings):
    django_settings.API_ANON_RATE = "100000/minute"  # fuzz the API, not its throttle

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(url=st.sampled_from(public_urls), query=QUERY)
    def check(url, query):
        response = client.get(f"{url}?{urlencode(query)}")
        assert response.status_code < 500, (url, query)

    for _ in range(len(public_urls)):
        check()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/cities/%00/", "/twinnings/99999999999999999999/", "/networks/" + "x" * 300 + "/",
     "/themes/nothing/", "/agreements/'%20OR%201=1/", "/api/cities/%00/",
     "/api/twinnings/99999999999999999999/", "/api/sources/'%20OR%201=1/",
     "/data/..%2F..%2F/datapackage.json", "/data/2026-01-01/../settings.py"],
)  # fmt: skip
def test_hostile_paths_get_a_4xx(client, path):
    assert 400 <= client.get(path).status_code < 500

"""Detail pages: contents, published records only, styled 404s, fixed query counts."""

import json
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from activities.models import Membership, Twinning


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert html.count("<h1") == 1, url
    return html


def map_points(html, data_id):
    found = re.search(rf'<script id="{data_id}" type="application/json">(.*?)</script>', html)
    assert found, data_id
    return {point["name"] for point in json.loads(found.group(1))["points"]}


def detail_urls(catalogue):
    return {
        "city": catalogue["coventry"].get_absolute_url(),
        "network": catalogue["network"].get_absolute_url(),
        "agreement": catalogue["pact"].get_absolute_url(),
        "twinning": catalogue["volgograd_link"].get_absolute_url(),
        "activity": catalogue["activity"].get_absolute_url(),
        "theme": catalogue["theme"].get_absolute_url(),
    }


# City --------------------------------------------------------------------------------


def test_city_page_shows_facts_twinnings_memberships_agreements_activities(client, small_catalogue):
    html = page(client, "/cities/coventry-gb/")
    assert "<h1>Coventry</h1>" in html
    assert "345,324" in html
    # Twinnings from either side, with kind, year and status.
    assert 'href="/cities/volgograd-ru/"' in html
    assert 'href="/cities/dresden-de/"' in html
    assert "Suspended" in html and "1944" in html and "1959" in html
    assert "Chair or president" in html and "Cities for Peace" in html
    assert "Peace Pact" in html and "Signed" in html
    assert "Aid to Ukrainian cities" in html
    assert "Test source" in html and 'href="https://example.org/source"' in html
    assert "Cite this record" in html and "http://testserver/cities/coventry-gb/" in html


def test_city_page_hides_draft_twinnings_and_draft_partners(client, small_catalogue):
    html = page(client, "/cities/coventry-gb/")
    assert "Kiel" not in html  # draft twinning
    assert "Hiddenville" not in html  # published twinning with a draft city
    assert 'Twinnings <span class="count">2</span>' in html


def test_city_map_draws_the_city_and_its_twins(client, small_catalogue):
    html = page(client, "/cities/coventry-gb/")
    assert map_points(html, "city-map-data") == {"Coventry (GB)", "Volgograd (RU)", "Dresden (DE)"}
    data = re.search(r'<script id="city-map-data" type="application/json">(.*?)</script>', html)
    assert json.loads(data.group(1))["link_focus"] is True
    assert "vendor/leaflet/leaflet.js" in html and "js/map.js" in html


def test_city_twinning_timeline_is_server_rendered_svg(client, small_catalogue):
    html = page(client, "/cities/coventry-gb/")
    svg = html[html.index('<svg viewBox="0 0 800') :]
    svg = svg[: svg.index("</svg>")]
    assert "<title" in svg and "<desc" in svg
    assert "Volgograd (1944–2022)" in svg
    assert "Dresden (1959)" in svg


def test_city_page_links_each_twinning_and_partner_to_its_own_page(
    client, small_catalogue, make_city
):
    coventry = small_catalogue["coventry"]
    # Partners whose slugs hold digits like the twinnings' ids, on either side.
    for n in range(12):
        partner = make_city(f"Stadt {n}", "DE", slug=f"stadt-{n}-1{n}", latitude=50, longitude=8)
        pair = (coventry, partner) if n % 2 else (partner, coventry)
        Twinning.objects.create(city_a=pair[0], city_b=pair[1], start_year=1960 + n)
    html = page(client, "/cities/coventry-gb/")
    twinnings = (
        Twinning.objects.published().involving(coventry).exclude(city_b__slug="hiddenville-fr")
    )
    rows = re.findall(
        r'<th scope="row"><a href="([^"]+)">[^<]*</a></th>.*?<a href="([^"]+)">Details', html, re.S
    )
    expected = {
        (twinning.partner_of(coventry).get_absolute_url(), twinning.get_absolute_url())
        for twinning in twinnings
    }
    assert set(rows) == expected and len(rows) == len(expected) == 14
    data = re.search(r'<script id="city-map-data" type="application/json">(.*?)</script>', html)
    map_urls = {point["url"] for point in json.loads(data.group(1))["points"]}
    assert map_urls == {coventry.get_absolute_url()} | {partner for partner, _ in expected}
    bars = set(re.findall(r'<a href="([^"]+)" class="chart-span', html))
    assert bars == {twinning for _, twinning in expected}
    assert "<td>Germany</td>" in html  # the partners' country, named


def test_draft_city_is_not_found(client, small_catalogue):
    assert client.get("/cities/hiddenville-fr/").status_code == 404


def test_city_without_coordinates_has_no_map(client, make_city):
    make_city("Nowhere", "FR", slug="nowhere-fr")
    html = page(client, "/cities/nowhere-fr/")
    assert "data-map=" not in html
    assert "leaflet.js" not in html


# Network -----------------------------------------------------------------------------


def test_network_page_shows_members_history_and_agreements(client, small_catalogue):
    html = page(client, "/networks/cities-for-peace/")
    assert "Cities for Peace" in html and "(CFP)" in html
    assert "Coventry" in html and "Dresden" in html and "Volgograd" in html
    assert "Kiel" not in html and "Hiddenville" not in html
    assert 'href="/networks/old-league/"' in html and "merged into this network" in html
    assert "Peace Pact" in html
    assert "Test source" in html
    assert map_points(html, "members-map-data") == {
        "Coventry (GB)",
        "Dresden (DE)",
        "Volgograd (RU)",
    }
    # Members by region chart: Europe has all three.
    assert "Europe: 3" in html


def test_network_members_filter_by_country(client, small_catalogue):
    html = page(client, "/networks/cities-for-peace/?country=de")
    members = html[html.index('id="members-heading"') :]
    members = members[: members.index("</table>")]
    assert "Dresden" in members
    assert "Coventry" not in members and "Volgograd" not in members
    assert map_points(html, "members-map-data") == {"Dresden (DE)"}
    assert '<option value="DE" selected>' in html


@pytest.mark.parametrize(
    ("country", "message"),
    [("ZZ", "is not a country code"), ("JP", "No published member in Japan"), ("x" * 500, "")],
)
def test_network_members_filter_with_bad_country_shows_everyone(
    client, small_catalogue, country, message
):
    html = page(client, f"/networks/cities-for-peace/?country={country}")
    assert "Showing all members" in html
    assert message in html
    assert map_points(html, "members-map-data") == {
        "Coventry (GB)",
        "Dresden (DE)",
        "Volgograd (RU)",
    }


def test_merged_network_links_to_its_successor(client, small_catalogue):
    html = page(client, "/networks/old-league/")
    assert "Merged into" in html and 'href="/networks/cities-for-peace/"' in html
    assert "No member city is recorded yet." in html


def test_draft_network_is_not_found(client, small_catalogue):
    assert client.get("/networks/draft-network/").status_code == 404


# Agreement ---------------------------------------------------------------------------


def test_agreement_page_shows_participants_like_a_status_table(client, small_catalogue):
    html = page(client, "/agreements/peace-pact/")
    table = html[html.index('class="status-table"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    cells = [re.findall(r">([^<>]+)</(?:a|td)>", row) for row in rows]
    assert cells == [
        ["Coventry", "United Kingdom", "Signed", "2015"],
        ["Dresden", "Germany", "Endorsed", "2016"],
    ]
    assert 'href="https://example.org/peace-pact.pdf"' in html
    assert "In force" in html and "Test source" in html


def test_draft_agreement_is_not_found(client, small_catalogue):
    assert client.get("/agreements/secret-pact/").status_code == 404


# Twinning ----------------------------------------------------------------------------


def test_twinning_page_shows_both_cities_and_status_history(client, small_catalogue):
    link = small_catalogue["volgograd_link"]
    html = page(client, link.get_absolute_url())
    assert "<h1>Coventry – Volgograd</h1>" in html
    assert 'href="/cities/coventry-gb/"' in html and 'href="/cities/volgograd-ru/"' in html
    history = html[html.index('id="history-heading"') :]
    history = history[: history.index("</ol>")]
    assert "1944" in history and "Started" in history
    assert "2022" in history and "Suspended" in history and "invasion of Ukraine" in history
    assert "Council resolution of 22 March 2022" in html
    assert map_points(html, "twinning-map-data") == {"Coventry (GB)", "Volgograd (RU)"}


def test_draft_twinning_and_twinning_with_draft_city_are_not_found(client, small_catalogue):
    assert client.get(small_catalogue["draft_link"].get_absolute_url()).status_code == 404
    assert client.get(small_catalogue["hidden_link"].get_absolute_url()).status_code == 404


# Activity ----------------------------------------------------------------------------


def test_activity_page_shows_cities_budget_and_map(client, small_catalogue):
    html = page(client, "/activities/aid-to-ukrainian-cities/")
    assert "Aid to Ukrainian cities" in html
    assert "250,000 GBP" in html
    assert 'href="/cities/coventry-gb/"' in html and 'href="/cities/dresden-de/"' in html
    assert "Hiddenville" not in html
    assert map_points(html, "activity-map-data") == {"Coventry (GB)", "Dresden (DE)"}


def test_draft_activity_is_not_found(client, small_catalogue):
    assert client.get("/activities/draft-mission/").status_code == 404


# Theme -------------------------------------------------------------------------------


def test_theme_page_groups_published_records_by_kind(client, small_catalogue):
    html = page(client, "/themes/peace/")
    assert 'Networks <span class="count">1</span>' in html
    assert 'Agreements <span class="count">1</span>' in html
    assert 'Twinnings <span class="count">1</span>' in html
    assert 'Activities <span class="count">1</span>' in html
    assert "Coventry – Volgograd" in html and "Aid to Ukrainian cities" in html


def test_theme_page_leaves_out_drafts(client, small_catalogue):
    theme = small_catalogue["theme"]
    small_catalogue["draft_pact"].themes.add(theme)
    small_catalogue["draft_link"].themes.add(theme)
    html = page(client, "/themes/peace/")
    assert "Secret Pact" not in html and "Kiel" not in html


# 404 and 500 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/cities/no-such-city/",
        "/networks/no-such-network/",
        "/agreements/no-such-agreement/",
        "/twinnings/999999/",
        "/activities/no-such-activity/",
        "/themes/no-such-theme/",
        "/no/such/page/",
    ],
)
def test_unknown_record_gives_the_styled_404(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html
    assert html.count("<h1") == 1
    assert 'class="site-header"' in html


def test_500_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert html.count("<h1") == 1


# Pages stay strict-CSP friendly --------------------------------------------------------


def test_detail_pages_have_no_inline_scripts_or_styles(client, small_catalogue):
    for url in [*detail_urls(small_catalogue).values(), "/", "/about/", "/search/?q=cov"]:
        html = page(client, url)
        assert " style=" not in html, url
        for script in re.findall(r"<script([^>]*)>", html):
            assert "src=" in script or 'type="application/json"' in script, (url, script)


# Query counts ------------------------------------------------------------------------


# The page's own queries, plus one: the catalogue version the page cache is keyed by.
# Networks, agreements and twinnings read their records' conflicting values (+1).
QUERY_LIMITS = {
    "city": 9 + 1,  # 9: with its other names
    "network": 7 + 1,
    "agreement": 5 + 1,
    "twinning": 4 + 1,
    "activity": 4 + 1,
    "theme": 5 + 1,
}


def add_more_records(catalogue, make_city, count=15):
    network, coventry, pact = catalogue["network"], catalogue["coventry"], catalogue["pact"]
    for _ in range(count):
        city = make_city(country="FR", latitude="45.0", longitude="5.0")
        Twinning.objects.create(city_a=coventry, city_b=city, start_year=1990)
        Membership.objects.create(network=network, city=city)
        pact.parties.create(city=city, year=2016)
        catalogue["activity"].partner_cities.add(city)
        catalogue["theme"].twinnings.add(Twinning.objects.involving(city).get())


def test_detail_page_query_count_does_not_grow_with_related_records(
    client, small_catalogue, make_city, django_assert_max_num_queries
):
    """Every kind of detail page, before and after the records are written once (each
    page measured on its own was six times the writing for the same counts)."""
    urls = detail_urls(small_catalogue)
    assert urls.keys() == QUERY_LIMITS.keys()
    for kind, url in urls.items():
        with django_assert_max_num_queries(QUERY_LIMITS[kind], info=kind):
            client.get(url)
    add_more_records(small_catalogue, make_city)
    for kind, url in urls.items():
        with django_assert_max_num_queries(QUERY_LIMITS[kind], info=kind):
            response = client.get(url)
        assert response.status_code == 200, kind


@pytest.mark.parametrize(
    "url_name",
    [
        "activities:network-list",
        "activities:agreement-list",
        "activities:activity-list",
    ],
)
def test_list_pages_never_name_a_draft_related_record(client, draft_links, url_name):
    page = client.get(reverse(url_name)).content.decode()
    assert "Open" in page  # the published record is listed
    assert "Secretville" not in page
    assert "Secret Alliance" not in page
    assert "secret-alliance" not in page  # nor offered as a facet choice


@pytest.mark.parametrize("record", ["network", "agreement", "activity"])
def test_detail_pages_never_name_a_draft_related_record(client, draft_links, record):
    page = client.get(getattr(draft_links, record).get_absolute_url()).content.decode()
    assert "Secretville" not in page
    assert "Secret Alliance" not in page


def test_network_detail_says_what_is_not_recorded_instead_of_a_draft(client, draft_links):
    page = client.get(draft_links.network.get_absolute_url()).content.decode()
    assert "<dt>Headquarters</dt><dd>Not recorded</dd>" in page
    assert "Merged into" not in page


def test_agreement_page_says_how_complete_its_list_of_parties_is(client, small_catalogue):
    pact = small_catalogue["pact"]  # three parties, one of them a draft place
    pact.parties_reported, pact.parties_reported_year = 113, 2015
    pact.save()
    html = client.get(pact.get_absolute_url()).content.decode()
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('id="facts-heading"')[1]))
    assert "Parties listed here 2 (it reported 113 in 2015)" in facts

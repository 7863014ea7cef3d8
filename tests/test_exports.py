"""Each download holds exactly the filtered rows, all of them, with stable columns."""

import csv
import io
import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.exports import (
    ACTIVITY_COLUMNS,
    AGREEMENT_COLUMNS,
    AGREEMENT_PARTY_COLUMNS,
    CITY_COLUMNS,
    MEMBERSHIP_COLUMNS,
    NETWORK_COLUMNS,
    TWINNING_COLUMNS,
)
from activities.models import Activity, Agreement, Membership, Network, Twinning
from cities.models import City
from tests.records import without_history

EXPORTS = [
    ("cities:city-list", "cities", CITY_COLUMNS, "country=FR&country=DE", "slug"),
    ("activities:network-list", "networks", NETWORK_COLUMNS, "theme=climate", "slug"),
    ("activities:agreement-list", "agreements", AGREEMENT_COLUMNS, "country=FR", "slug"),
    ("activities:twinning-list", "twinnings", TWINNING_COLUMNS, "country=FR", "id"),
    ("activities:activity-list", "activities", ACTIVITY_COLUMNS, "country=JP", "slug"),
    ("activities:membership-list", "memberships", MEMBERSHIP_COLUMNS, "network=c40", "id"),
    (
        "activities:agreementparty-list",
        "agreement-parties",
        AGREEMENT_PARTY_COLUMNS,
        "country=FR&action=signed",
        "id",
    ),
]


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join(response.streaming_content).decode("utf-8")


def shown_keys(client, url_name, query, key):
    """The keys of the records the list page shows for the same query (all on one page)."""
    response = client.get(f"{reverse(url_name)}?{query}&page_size=500")
    return sorted(
        str(getattr(obj, "pk" if key == "id" else key)) for obj in response.context["object_list"]
    )


@pytest.mark.parametrize(("url_name", "name", "columns", "query", "key"), EXPORTS)
def test_csv_export_holds_exactly_the_filtered_rows(
    client, catalogue, url_name, name, columns, query, key
):
    response, body = download(client, f"{reverse(url_name)}?{query}&format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.reader(io.StringIO(body))
    header = next(reader)
    assert header == [column.name for column in columns] + ["url"]
    rows = [dict(zip(header, row, strict=True)) for row in reader]
    expected = shown_keys(client, url_name, query, key)
    assert expected  # the query selects something
    assert sorted(row[key] for row in rows) == expected
    assert all(row["url"].startswith("http://testserver/") for row in rows)


@pytest.mark.parametrize(("url_name", "name", "columns", "query", "key"), EXPORTS)
def test_json_export_holds_the_rows_and_describes_the_query(
    client, catalogue, url_name, name, columns, query, key
):
    response, body = download(client, f"{reverse(url_name)}?{query}&format=json&page=2")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(body)
    expected = shown_keys(client, url_name, query, key)
    assert data["meta"]["count"] == len(expected) == len(data["results"])
    assert sorted(str(row[key]) for row in data["results"]) == expected
    assert data["meta"]["query"]  # the filters, without format or page
    assert "format" not in data["meta"]["query"] and "page" not in data["meta"]["query"]
    assert data["meta"]["licence"] and data["meta"]["credit"]
    assert timezone.datetime.fromisoformat(data["meta"]["generated"])
    assert list(data["results"][0]) == [column.name for column in columns] + ["url"]


@pytest.mark.parametrize(("url_name", "name", "columns", "query", "key"), EXPORTS)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_file_name_carries_the_list_and_the_date(
    client, catalogue, url_name, name, columns, query, key, fmt
):
    response = client.get(f"{reverse(url_name)}?format={fmt}")
    today = timezone.now().strftime("%Y-%m-%d")
    assert (
        response["Content-Disposition"] == f'attachment; filename="citydiplo-{name}-{today}.{fmt}"'
    )


def test_json_meta_echoes_repeated_parameters_as_a_list(client, catalogue):
    _response, body = download(
        client, reverse("cities:city-list") + "?country=FR&country=DE&format=json"
    )
    assert json.loads(body)["meta"]["query"] == {"country": ["FR", "DE"]}


def test_export_holds_every_matching_row_not_one_page(client, make_city):
    make_city = without_history(make_city)  # downloads hold no history
    for n in range(60):
        make_city(f"Village {n:02d}", "IT")
    _response, body = download(
        client, reverse("cities:city-list") + "?country=IT&page_size=10&format=csv"
    )
    lines = body.strip().splitlines()
    assert len(lines) == 1 + 60
    assert City.objects.filter(country="IT").count() == 60


def test_export_leaves_out_drafts(client, catalogue):
    _response, body = download(client, reverse("cities:city-list") + "?format=csv")
    assert "hidden-fr" not in body
    assert "paris-fr" in body


def test_csv_values_are_plain_text(client, catalogue):
    _response, body = download(
        client, reverse("activities:twinning-list") + "?status=suspended&format=csv"
    )
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["city_a"] == "coventry-gb" and row["city_b_country"] == "RU"
    assert row["themes"] == "peace"
    assert row["start_year"] == "1944"
    assert row["start_on"] == ""


def test_csv_is_utf8(client, make_city):
    make_city("Düsseldorf", "DE", slug="dusseldorf-de")
    _response, body = download(client, reverse("cities:city-list") + "?format=csv")
    assert "Düsseldorf" in body


@pytest.mark.parametrize("fmt", ["xml", "html", "CSV2", "%00"])
def test_unknown_format_is_a_400(client, db, fmt):
    response = client.get(reverse("cities:city-list"), {"format": fmt})
    assert response.status_code == 400
    assert b"format=csv" in response.content


def test_export_with_invalid_filters_is_a_400_naming_them(client, catalogue):
    response = client.get(reverse("activities:twinning-list") + "?year_min=abc&format=csv")
    assert response.status_code == 400
    assert re.search(rb"Started from: .*whole number", response.content)


def test_list_page_links_to_both_downloads_with_its_filters(client, catalogue):
    response = client.get(reverse("activities:twinning-list") + "?country=FR")
    content = response.content.decode()
    assert "these 3 results" in content
    assert 'href="?country=FR&amp;format=csv"' in content
    assert 'href="?country=FR&amp;format=json"' in content


@pytest.mark.parametrize(("url_name", "name", "columns", "query", "key"), EXPORTS)
def test_every_export_column_is_documented_in_order(url_name, name, columns, query, key):
    docs = (settings.BASE_DIR / "docs" / "exports.md").read_text()
    section = docs.split(f"(`{reverse(url_name)}`)", 1)[1].split("###", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
    assert documented == [column.name for column in columns] + ["url"]


@pytest.mark.parametrize(
    ("url_name", "slug", "columns"),
    [
        (
            "activities:network-list",
            "open-network",
            ["merged_into", "headquarters", "headquarters_country"],
        ),
        ("activities:agreement-list", "open-pact", ["place", "network"]),
        ("activities:activity-list", "open-mission", ["lead_city", "lead_city_country", "place"]),
    ],
)
def test_exports_leave_draft_related_records_empty(client, draft_links, url_name, slug, columns):
    response = client.get(reverse(url_name) + "?format=csv")
    body = b"".join(response.streaming_content).decode()
    assert "secretville" not in body and "secret-alliance" not in body
    (row,) = [row for row in csv.DictReader(io.StringIO(body)) if row["slug"] == slug]
    assert {column: row[column] for column in columns} == dict.fromkeys(columns, "")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_text_cells_a_spreadsheet_would_run(client, make_city, start):
    name = f'{start}HYPERLINK("http://evil.example","x")'
    make_city(name, "FR", slug="evil-fr", latitude="40.71280", longitude="-74.00600")
    _response, body = download(client, reverse("cities:city-list") + "?format=csv")
    row = next(csv.DictReader(io.StringIO(body, newline="")))
    assert row["name"] == "'" + name
    assert row["longitude"] == "-74.00600"  # a number stays a number
    assert row["latitude"] == "40.71280"


def test_csv_leaves_ordinary_text_alone(client, make_city):
    make_city("Saint-Étienne", "FR", slug="saint-etienne-fr")
    _response, body = download(client, reverse("cities:city-list") + "?format=csv")
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["name"] == "Saint-Étienne"


def test_json_keeps_formula_like_text_as_it_is(client, make_city):
    make_city("=1+2", "FR", slug="formula-fr", latitude="40.71280", longitude="-74.00600")
    response = client.get(reverse("cities:city-list") + "?format=json")
    data = json.loads(b"".join(response.streaming_content))
    assert data["results"][0]["name"] == "=1+2"
    assert data["results"][0]["longitude"] == -74.006


SOURCED = [
    ("/cities/", lambda c: c.paris, "slug"),
    ("/twinnings/", lambda c: c.paris_berlin, "id"),
    ("/networks/", lambda c: c.c40, "slug"),
    ("/agreements/", lambda c: c.pact, "slug"),
    ("/activities/", lambda c: c.aid, "slug"),
    ("/memberships/", lambda c: c.c40.memberships.get(city=c.paris), "id"),
    ("/agreement-parties/", lambda c: c.pact.parties.get(city=c.paris), "id"),
]


@pytest.mark.parametrize(("path", "record", "key"), SOURCED)
def test_downloads_carry_source_keys_and_urls(client, catalogue, source, path, record, key):
    from activities.models import Source

    record = record(catalogue)
    other = Source.objects.create(
        key="a-first", title="Zeta", url="https://example.org/zeta", kind="news"
    )
    record.sources.add(source, other)
    _response, body = download(client, f"{path}?format=csv")
    rows = {row[key]: row for row in csv.DictReader(io.StringIO(body))}
    row = rows[str(record.pk if key == "id" else record.slug)]
    # Both by key, so the n-th URL is the n-th key's.
    assert row["source_keys"] == "a-first; test-source"
    assert row["source_urls"] == "https://example.org/zeta; https://example.org/source"
    _response, body = download(client, f"{path}?format=json")
    results = json.loads(body)["results"]
    wanted = str(record.pk if key == "id" else record.slug)
    found = next(r for r in results if str(r[key]) == wanted)
    assert found["source_keys"] == ["a-first", "test-source"]
    assert found["source_urls"] == ["https://example.org/zeta", "https://example.org/source"]


def test_membership_download_filters_by_network_city_country_role_and_year(client, catalogue):
    catalogue.c40.memberships.filter(city=catalogue.paris).update(role="chair", joined_year=2006)
    _response, body = download(
        client, "/memberships/?network=c40&country=FR&role=chair&year_min=2000&format=csv"
    )
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["network"], r["city"], r["role"], r["joined_year"]) for r in rows] == [
        ("c40", "paris-fr", "chair", "2006")
    ]
    assert rows[0]["url"] == "http://testserver/networks/c40/"


def csv_rows(client, url):
    _response, body = download(client, url)
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_city_download_counts_and_places_equal_the_list(client, catalogue):
    rows = {row["slug"]: row for row in csv_rows(client, "/cities/?format=csv")}
    shown = client.get("/cities/?page_size=500").context["object_list"]
    assert set(rows) == {city.slug for city in shown}
    for city in shown:
        row = rows[city.slug]
        assert int(row["twinning_count"]) == city.twinning_count
        assert int(row["network_count"]) == city.network_count
        assert row["country_name"] == city.country.name
    # Paris: two published twinnings, three networks; Munich's twin is a draft place;
    # Volgograd's only membership and Coventry's network are drafts.
    assert (rows["paris-fr"]["twinning_count"], rows["paris-fr"]["network_count"]) == ("2", "3")
    assert rows["munich-de"]["twinning_count"] == "1"
    assert rows["volgograd-ru"]["network_count"] == "0"
    assert rows["coventry-gb"]["network_count"] == "0"
    assert rows["paris-fr"]["region"] == "europe" and rows["tokyo-jp"]["region"] == "asia"
    assert rows["paris-fr"]["is_capital"] == "true" and rows["lyon-fr"]["is_capital"] == "false"
    assert rows["paris-fr"]["url"] == "http://testserver/cities/paris-fr/"


def test_city_download_sorted_by_twinnings_keeps_the_list_order(client, catalogue):
    rows = csv_rows(client, "/cities/?ordering=-twinnings&format=csv")
    shown = client.get("/cities/?ordering=-twinnings&page_size=500").context["object_list"]
    assert [row["slug"] for row in rows] == [city.slug for city in shown]


def test_twinning_download_values_equal_the_filtered_list(client, catalogue):
    rows = csv_rows(client, "/twinnings/?country=FR&format=csv")
    shown = client.get("/twinnings/?country=FR&page_size=500").context["object_list"]
    assert [
        (
            row["id"],
            row["city_a"],
            row["city_a_name"],
            row["city_b_country"],
            row["kind"],
            row["start_year"],
            row["themes"],
        )
        for row in rows
    ] == [
        (
            str(t.pk),
            t.city_a.slug,
            t.city_a.name,
            t.city_b.country.code,
            t.kind,
            str(t.start_year or ""),
            "; ".join(t.themes.order_by("slug").values_list("slug", flat=True)),
        )
        for t in shown
    ]
    assert rows[0]["url"] == f"http://testserver/twinnings/{rows[0]['id']}/"


def test_csv_neutralises_twinning_texts(client, catalogue):
    catalogue.coventry_volgograd.status_reason = "=SUM(A1:A9)"
    catalogue.coventry_volgograd.save()
    (row,) = csv_rows(client, "/twinnings/?status=suspended&format=csv")
    assert row["status_reason"] == "'=SUM(A1:A9)"
    assert row["status_year"] == "2022"


def queries_of_download(client, url):
    with CaptureQueriesContext(connection) as captured:
        download(client, url)
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/cities/?format=csv",
        "/cities/?format=json",
        "/cities/?ordering=-twinnings&format=csv",
        "/twinnings/?format=csv",
        "/twinnings/?country=FR&format=json",
    ],
)
def test_download_queries_do_not_grow_with_its_rows(client, catalogue, make_city, url):
    few = queries_of_download(client, url)
    write_more_rows(catalogue, make_city)
    assert queries_of_download(client, url) == few


@without_history  # downloads hold no history (tests/records.py)
def write_more_rows(catalogue, make_city):
    for n in range(40):
        city = make_city(f"Ville {n}", "FR", population=1000 + n)
        twinning = Twinning.objects.create(city_a=catalogue.paris, city_b=city, start_year=1990)
        twinning.themes.add(catalogue.peace)
        Membership.objects.create(network=catalogue.c40, city=city)


def test_record_by_record_downloads_read_related_values_in_constant_queries(
    client, catalogue, make_city, source
):
    # Networks, agreements and activities are downloaded record by record: their
    # themes, places, partner cities and sources come from what each column prefetches
    # (Column.prefetch), not from the list page's own queryset, which fetches only what
    # the page shows.
    _response, body = download(client, "/activities/?format=json")
    activities = {row["slug"]: row for row in json.loads(body)["results"]}
    assert activities["water-aid"]["partner_cities"] == ["lyon-fr", "tokyo-jp"]
    assert activities["refuge"]["partner_cities"] == ["munich-de"]  # the draft left out
    assert activities["water-aid"]["themes"] == ["climate"]
    _response, body = download(client, "/agreements/?format=csv")
    agreements = {row["slug"]: row for row in csv.DictReader(io.StringIO(body))}
    assert (agreements["food-pact"]["place"], agreements["food-pact"]["themes"]) == (
        "lyon-fr",
        "climate",
    )
    _response, body = download(client, "/networks/?format=csv")
    networks = {row["slug"]: row for row in csv.DictReader(io.StringIO(body))}
    assert networks["c40"]["themes"] == "climate"

    def add_records(n):
        city = make_city(f"Ville {n}", "FR", slug=f"ville-{n}-fr")
        network = Network.objects.create(
            name=f"Réseau {n}", slug=f"reseau-{n}", scope="national", headquarters=city
        )
        agreement = Agreement.objects.create(
            title=f"Pacte {n}", slug=f"pacte-{n}", kind="pact", place=city, network=network
        )
        activity = Activity.objects.create(
            title=f"Aide {n}", slug=f"aide-{n}", kind="development", lead_city=city, place=city
        )
        activity.partner_cities.add(catalogue.paris, city)
        for record in (network, agreement, activity):
            record.themes.add(catalogue.peace)
            record.sources.add(source)

    add_records(0)  # each relation has something to fetch, so the baseline fetches it
    urls = ["/networks/?format=csv", "/agreements/?format=json", "/activities/?format=csv"]
    few = {url: queries_of_download(client, url) for url in urls}
    for n in range(1, 13):
        add_records(n)
    assert {url: queries_of_download(client, url) for url in urls} == few
    _response, body = download(client, "/activities/?format=json")
    activity = next(row for row in json.loads(body)["results"] if row["slug"] == "aide-3")
    assert activity["partner_cities"] == ["paris-fr", "ville-3-fr"]
    assert (activity["place"], activity["themes"], activity["source_keys"]) == (
        "ville-3-fr",
        ["peace"],
        ["test-source"],
    )

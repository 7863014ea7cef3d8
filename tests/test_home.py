"""The home page: counts, map, charts and recent records, published records only."""

import json
import re

from citydiplo.charts import bar_chart, timeline


def home(client):
    response = client.get("/")
    assert response.status_code == 200
    return response, response.content.decode()


def test_home_counts_published_records_of_each_kind(client, small_catalogue):
    response, html = home(client)
    counts = {label: count for label, count, _url in response.context["counts"]}
    assert counts == {
        "Cities and places": 4,  # Hiddenville is a draft
        "Twinnings": 2,  # not the draft Kiel link, nor the link to draft Hiddenville
        "Networks": 2,
        "Network memberships": 3,
        "Agreements": 1,
        "Activities": 1,
    }
    assert html.count("<h1") == 1
    assert "Marchetti" in html


def test_home_has_one_search_box_aimed_at_search(client, db):
    _response, html = home(client)
    assert 'id="home-search-q"' in html
    assert html.count('action="/search/"') == 2  # the home form and the header form


def test_home_map_lists_published_located_cities(client, small_catalogue):
    _response, html = home(client)
    data = re.search(r'<script id="home-map-data" type="application/json">(.*?)</script>', html)
    rows = json.loads(data.group(1))
    assert {row[2] for row in rows["compact"]} == {"Coventry", "Volgograd", "Dresden", "Kiel"}
    assert rows["url_template"] == "/cities/__slug__/"
    assert "leaflet.js" in html and 'data-map="home-map-data"' in html


def test_home_charts_twinnings_per_decade(client, small_catalogue):
    response, html = home(client)
    bars = [(bar.label, bar.value) for bar in response.context["decade_chart"].bars]
    # 1944 (Volgograd), 1959 (Dresden); not the draft 1967 link nor the 1970 link to a
    # draft city.
    assert bars == [("1940s", 1), ("1950s", 1)]
    assert "Twinnings started per decade" in html
    assert "<desc" in html


def test_home_charts_networks_by_founding_year(client, small_catalogue):
    response, html = home(client)
    spans = [(s.label, s.start, s.end) for s in response.context["network_timeline"].spans]
    assert spans == [("Old League", 1950, 1990), ("CFP", 1982, None)]
    assert 'href="/networks/cities-for-peace/"' in html


def test_home_lists_recent_published_records(client, small_catalogue):
    response, html = home(client)
    recent = response.context["recent"]
    assert [kind for kind, _record in recent].count("City") == 2
    assert {kind for kind, _record in recent} == {
        "City",
        "Twinning",
        "Network",
        "Agreement",
        "Activity",
    }
    recent = [record for _kind, record in recent]
    assert small_catalogue["draft_pact"] not in recent
    assert small_catalogue["hidden"] not in recent
    assert "Secret Pact" not in html


def test_home_on_an_empty_catalogue(client, db):
    response, html = home(client)
    assert all(count == 0 for _label, count, _url in response.context["counts"])
    assert "No twinning has a start year yet." in html
    assert "Nothing published yet." in html


def test_home_query_count_is_fixed(
    client, small_catalogue, make_city, django_assert_max_num_queries
):
    # 15 for the page, 1 for the catalogue version the page cache is keyed by.
    with django_assert_max_num_queries(16):
        client.get("/")
    for n in range(20):
        make_city(f"Extra {n}", "FR", latitude="45.0", longitude="5.0")
    with django_assert_max_num_queries(16):
        client.get("/")


def test_bar_chart_scales_bars_to_the_largest_value():
    chart = bar_chart([("a", 2), ("b", 4), ("c", 0)], title="t", desc="d")
    heights = [bar.height for bar in chart.bars]
    assert heights[1] == 2 * heights[0] and heights[2] == 0
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert not bar_chart([], title="t", desc="d")


def test_timeline_skips_undated_items_and_orders_by_start():
    chart = timeline(
        [
            ("late", 2000, None, "active", "/b/"),
            ("undated", None, None, "active", "/c/"),
            ("early", 1950, 1990, "closed", "/a/"),
        ],
        title="t",
        desc="d",
    )
    assert [span.label for span in chart.spans] == ["early", "late"]
    early, late = chart.spans
    assert early.x1 < early.x2 < late.x2
    assert chart.ticks[0][0] == 1950


def test_timeline_svg_escapes_labels_and_links_each_span():
    from django.template.loader import render_to_string

    chart = timeline(
        [
            ("Tom & <Jerry>", 1950, 1990, "ended", "/a/?x=1&y=2"),
            ("Late", 2000, None, "active", "/b/"),
        ],
        title="t",
        desc="d",
    )
    svg = render_to_string("includes/_timeline_chart.html", {"chart": chart, "chart_id": "c"})
    assert (
        '<desc id="c-desc">d Tom &amp; &lt;Jerry&gt;: from 1950 to 1990. Late: from 2000.</desc>'
        in svg
    )
    assert '<a href="/a/?x=1&amp;y=2" class="chart-span chart-span-ended">' in svg
    assert "Tom &amp; &lt;Jerry&gt; (1950–1990)</text></a>" in svg
    assert 'text-anchor="end">Late (2000)</text></a>' in svg
    assert svg.count('<g class="chart-tick">') == len(chart.ticks)


def test_home_decade_chart_shows_empty_decades_as_zero(client, small_catalogue):
    from activities.models import Twinning

    Twinning.objects.create(
        city_a=small_catalogue["volgograd"], city_b=small_catalogue["dresden"], start_year=1988
    )
    response, _html = home(client)
    bars = [(bar.label, bar.value) for bar in response.context["decade_chart"].bars]
    assert bars == [("1940s", 1), ("1950s", 1), ("1960s", 0), ("1970s", 0), ("1980s", 1)]

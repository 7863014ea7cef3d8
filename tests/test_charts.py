"""Charts built on dates say, visibly, how many of the records they could date."""

import re

from django.urls import reverse

from activities.models import Twinning
from citydiplo.charts import Coverage, bar_chart, timeline


def visible_text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_coverage_reads_as_dated_of_total():
    assert str(Coverage(1530, 24300, "twinnings")) == "dated: 1,530 of 24,300 twinnings"


def test_timeline_counts_the_items_it_could_not_date():
    chart = timeline(
        [("A", 1990, None, "active", "/a"), ("B", None, None, "active", "/b")],
        title="t",
        desc="d",
        noun="twinnings",
    )
    assert len(chart.spans) == 1
    assert str(chart.coverage) == "dated: 1 of 2 twinnings"
    assert str(bar_chart([], title="t", desc="d", coverage=Coverage(0, 3, "x")).coverage) == (
        "dated: 0 of 3 x"
    )


def test_home_charts_say_how_many_records_they_dated(client, catalogue):
    Twinning.objects.create(city_a=catalogue.paris, city_b=catalogue.tokyo, kind="sister_city")
    html = client.get(reverse("activities:home")).content.decode()
    decades = html.split('id="decades-heading"', 1)[1].split("</section>", 1)[0]
    assert "dated: 5 of 6 twinnings" in visible_text(decades)
    assert 'class="chart-coverage">dated: 5 of 6 twinnings<' in decades
    networks = html.split('id="networks-heading"', 1)[1].split("</section>", 1)[0]
    assert "dated: 4 of 4 networks" in visible_text(networks)


def test_city_timeline_says_how_many_twinnings_it_dated(client, catalogue):
    Twinning.objects.create(city_a=catalogue.coventry, city_b=catalogue.lyon, kind="twin_town")
    html = client.get(catalogue.coventry.get_absolute_url()).content.decode()
    twinnings = html.split('id="twinnings-heading"', 1)[1].split("</section>", 1)[0]
    assert "dated: 1 of 2 twinnings" in visible_text(twinnings)


def test_a_chart_with_nothing_dated_still_says_so(client, catalogue):
    Twinning.objects.create(city_a=catalogue.chicago, city_b=catalogue.lyon, kind="sister_city")
    Twinning.objects.filter(city_a=catalogue.tokyo, city_b=catalogue.chicago).update(
        start_year=None, status="active", status_year=None
    )
    html = client.get(catalogue.chicago.get_absolute_url()).content.decode()
    assert "None of these twinnings has a known start year." in html
    assert "(dated: 0 of 2 twinnings)" in html

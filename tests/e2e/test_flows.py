"""A researcher's flows in a real browser: search, filter, paginate, open a record, see
the map, download CSV."""

import csv
import io
import re

import pytest
from playwright.sync_api import Error, expect

from activities.models import Twinning
from cities.models import City

pytestmark = pytest.mark.e2e


def test_search_from_home_then_open_a_city_with_its_map(page, live_server, small_catalogue):
    page.goto(live_server.url + "/")
    # Every published located city is a marker on the home map, tiles or not.
    expect(page.locator("[data-map=home-map-data] path.map-marker")).to_have_count(4)
    # An overview of up to 2,000 cities: markers are not tab stops (search and lists are).
    expect(page.locator("[data-map=home-map-data] path[tabindex]")).to_have_count(0)

    page.get_by_label("Search every kind of record").fill("coventry")
    page.get_by_label("Search every kind of record").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=coventry$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results for “coventry”")
    expect(page.get_by_role("heading", name=re.compile("^Twinnings"))).to_be_visible()

    page.locator("#results-cities").get_by_role("link", name="Coventry (GB)").click()
    expect(page).to_have_url(live_server.url + "/cities/coventry-gb/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Coventry")
    # Coventry and its two published twins, linked by lines.
    expect(page.locator(".leaflet-container path.map-marker")).to_have_count(3)
    expect(page.locator(".leaflet-container path.map-line")).to_have_count(2)
    expect(page.locator("table").first).to_contain_text("Volgograd")


def test_maps_animate_only_where_the_reader_has_not_asked_for_reduced_motion(
    page, browser, live_server, small_catalogue
):
    city = live_server.url + small_catalogue["coventry"].get_absolute_url()
    page.goto(city)  # the `page` fixture asks for reduced motion
    expect(page.locator(".leaflet-container path.map-marker")).to_have_count(3)
    expect(page.locator(".leaflet-container.leaflet-fade-anim")).to_have_count(0)

    moving = browser.new_context(reduced_motion="no-preference")
    try:
        other = moving.new_page()
        other.goto(city)
        expect(other.locator(".leaflet-container path.map-marker")).to_have_count(3)
        expect(other.locator(".leaflet-container.leaflet-fade-anim")).to_have_count(1)
    finally:
        moving.close()


def test_from_a_city_page_open_a_twinning_or_follow_a_map_marker_by_keyboard(
    page, live_server, small_catalogue
):
    page.goto(live_server.url + "/cities/coventry-gb/")
    page.get_by_role("link", name="Details of Coventry – Volgograd").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Coventry – Volgograd")
    expect(page.locator("#history-heading + ol")).to_contain_text("Suspended")
    expect(page.locator(".leaflet-container path.map-marker")).to_have_count(2)

    page.goto(live_server.url + "/cities/coventry-gb/")
    marker = page.get_by_role("button", name="Volgograd (RU), map marker")
    marker.focus()
    expect(marker).to_be_focused()
    expect(page.locator(".leaflet-tooltip")).to_have_text("Volgograd (RU)")
    page.keyboard.press("Enter")
    link = page.locator(".leaflet-popup-content a")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + "/cities/volgograd-ru/")


def test_network_members_filter_by_country(page, live_server, small_catalogue):
    page.goto(live_server.url + "/networks/cities-for-peace/")
    expect(page.locator(".leaflet-container path.map-marker")).to_have_count(3)
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"\?country=DE"))
    expect(page.locator(".leaflet-container path.map-marker")).to_have_count(1)
    expect(page.locator("#members-heading ~ .table-wrap tbody tr")).to_have_count(1)
    # One point: the map shows the city's surroundings, not half a continent.
    expect(page.locator(".leaflet-container.map-ready")).to_have_attribute("data-zoom", "10")


def test_keyboard_user_can_skip_to_the_content_and_the_browser_reaches_only_the_live_server(
    page, live_server, db
):
    assert page.goto(live_server.url + "/about/").status == 200
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    # Any other host fails to resolve (CHROMIUM_ARGS in conftest.py), as offline.
    with pytest.raises(Error, match="ERR_NAME_NOT_RESOLVED"):
        page.goto("https://tile.openstreetmap.org/0/0/0.png")


def test_filter_the_twinnings_list_by_country(page, live_server, small_catalogue):
    other = Twinning.objects.create(
        city_a=small_catalogue["volgograd"], city_b=small_catalogue["dresden"], start_year=1988
    )
    page.goto(live_server.url + "/twinnings/?country=GB")
    main = page.locator("main")
    expect(main.get_by_role("link", name=re.compile("Volgograd")).first).to_be_visible()
    expect(main.locator(f'a[href="{other.get_absolute_url()}"]')).to_have_count(0)


def test_paginate_the_city_list(page, live_server, make_city):
    for n in range(25):
        make_city(f"Pagetown {n:02d}", "FR")
    page.goto(live_server.url + "/cities/?q=Pagetown&page_size=10&ordering=name")
    main = page.locator("main")
    expect(main.get_by_role("link", name=re.compile("Pagetown 00"))).to_have_count(1)
    main.get_by_role("link", name=re.compile("next", re.I)).first.click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(main.get_by_role("link", name=re.compile("Pagetown 10"))).to_have_count(1)
    expect(main.get_by_role("link", name=re.compile("Pagetown 00"))).to_have_count(0)


def test_download_the_filtered_city_list_as_csv(page, live_server, small_catalogue):
    page.goto(live_server.url + "/cities/?country=DE")
    link = page.locator("main a[href*='format=csv']").first
    href = link.get_attribute("href")
    response = page.request.get(link.evaluate("a => a.href"))
    assert "format=csv" in href and "country=DE" in href
    assert response.ok
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    expected = set(City.objects.published().filter(country="DE").values_list("name", flat=True))
    assert {row["name"] for row in rows} == expected == {"Dresden", "Kiel"}


def test_twinning_timeline_scrolls_on_a_phone_without_cutting_labels(
    page, live_server, small_catalogue
):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/cities/coventry-gb/")
    geometry = page.evaluate(
        """() => {
          const figure = document.querySelector('figure.chart');
          const svg = figure.querySelector('svg').getBoundingClientRect();
          const labels = [...figure.querySelectorAll('text')].map(t => t.getBoundingClientRect());
          return {
            page: document.documentElement.scrollWidth,
            scrollable: figure.scrollWidth >= svg.width - 1,
            inside: labels.every(t => t.left >= svg.left - 1 && t.right <= svg.right + 1),
          };
        }"""
    )
    assert geometry == {"page": 375, "scrollable": True, "inside": True}


def test_open_the_map_of_a_filtered_twinnings_list_with_hostile_names_as_text(
    page, live_server, small_catalogue
):
    evil = small_catalogue["volgograd"]
    evil.name = '<img src=x id=injected onerror="alert(1)">'
    evil.save()
    page.goto(live_server.url + "/twinnings/?country=RU")
    summary = page.locator("details.list-map summary")
    expect(summary).to_contain_text("Map of this result")
    summary.click()
    expect(page.locator("details.list-map .map.map-ready")).to_be_visible()
    expect(page.locator(".list-map-status")).to_contain_text("2 places on the map")
    expect(page.locator(".list-map-status")).to_contain_text("1 twinning drawn as a line")
    markers = page.locator(".list-map .map-marker")
    expect(markers).to_have_count(2)
    tooltips = []
    for index in range(2):
        markers.nth(index).hover()
        tooltips.append(page.locator(".leaflet-tooltip").last.inner_text())
    assert evil.name in tooltips
    assert page.locator("#injected").count() == 0


def test_phone_shows_folded_filters_before_the_results_and_no_sideways_scroll(
    page, live_server, small_catalogue
):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/twinnings/?status=active")
    toggle = page.locator("#filters > summary")
    expect(toggle).to_have_text("Filters (1 active)")
    expect(page.locator("#filters form.filter-form")).to_be_hidden()
    toggle_box = toggle.bounding_box()
    results_box = page.locator("table.results").bounding_box()
    assert toggle_box["y"] + toggle_box["height"] <= results_box["y"]
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("element => element.scrollWidth <= element.clientWidth")
    expect(page.locator("table.results td[data-label='Partner']").first).to_be_visible()
    toggle.click()
    expect(page.locator("#filters form.filter-form")).to_be_visible()


def test_after_applying_a_filter_focus_lands_on_the_results_heading(
    page, live_server, small_catalogue
):
    page.goto(live_server.url + "/twinnings/")
    page.fill("#id_year_min", "1950")
    page.click("form.filter-form button[type=submit]")
    page.wait_for_url("**year_min=1950**")
    expect(page.locator("#results-heading")).to_be_focused()
    expect(page.locator("#results-heading")).to_contain_text("1 result")
    page.locator(".facet a", has_text="Active").click()
    page.wait_for_url("**status=active**")
    expect(page.locator("#results-heading")).to_be_focused()

"""Editors' text reaches readers as text: a hostile city name in a map tooltip and
popup is shown, never parsed as markup."""

import pytest
from playwright.sync_api import expect

from activities.models import Twinning

pytestmark = pytest.mark.e2e

HOSTILE = '<img src=x id=injected onerror="document.title=1"><b id=bold>Evil</b>'


def test_hostile_city_name_is_shown_as_text_in_tooltip_and_popup(
    page, live_server, small_catalogue, make_city
):
    evil = make_city(HOSTILE, "FR", slug="evil-fr", latitude="48.85", longitude="2.35")
    Twinning.objects.create(city_a=small_catalogue["coventry"], city_b=evil, start_year=2000)
    page.goto(live_server.url + "/cities/coventry-gb/")
    markers = page.locator(".leaflet-container path.map-marker")
    expect(markers).to_have_count(4)

    marker = page.get_by_role("button", name=f"{HOSTILE} (FR), map marker")
    marker.hover()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_text(f"{HOSTILE} (FR)")
    marker.click()
    expect(page.locator(".leaflet-popup-content a")).to_have_text(f"{HOSTILE} (FR)")
    # Nothing of the name became an element.
    expect(page.locator("#injected")).to_have_count(0)
    expect(page.locator("#bold")).to_have_count(0)
    expect(page.locator(".leaflet-tooltip img, .leaflet-popup img")).to_have_count(0)

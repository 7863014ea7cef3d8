"""Picking a place by typing its name in a list filter, with and without suggestions."""

import re

import pytest
from playwright.sync_api import expect

from activities.models import Twinning
from cities.models import City, CityName, NameSource

pytestmark = pytest.mark.e2e


@pytest.fixture
def springfields(db, source):
    """Two Springfields (one twinned with Munich, known also as München), and Kyiv."""
    munich = City.objects.create(name="Munich", country="DE", slug="munich-de", population=1)
    CityName.objects.add([(munich.pk, "München")], NameSource.GEONAMES)
    kyiv = City.objects.create(name="Kyiv", country="UA", slug="kyiv-ua", population=2)
    CityName.objects.add([(kyiv.pk, "Kiev")], NameSource.GEONAMES)
    illinois = City.objects.create(
        name="Springfield", country="US", subdivision="Illinois", slug="springfield-illinois-us"
    )
    missouri = City.objects.create(
        name="Springfield", country="US", subdivision="Missouri", slug="springfield-missouri-us"
    )
    for a, b in ((illinois, munich), (missouri, kyiv)):
        Twinning.objects.create(city_a=a, city_b=b).sources.add(source)
    return illinois, missouri


def test_pick_a_city_by_typing_in_the_twinnings_filter(page, live_server, springfields):
    page.goto(live_server.url + "/twinnings/")
    field = page.get_by_role("combobox", name="City (either side)")
    field.press_sequentially("Springf", delay=30)
    options = page.get_by_role("listbox", name="Places matching what you type").get_by_role(
        "option"
    )
    expect(options).to_have_count(2)
    expect(options.first).to_have_text("Springfield (Illinois, United States of America)")
    expect(page.locator("[role=status].visually-hidden").first).to_contain_text("2 places found")
    field.press("ArrowDown")
    field.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", re.compile(r"-1$"))
    field.press("Enter")  # chooses Missouri; the list closes
    expect(field).to_have_value("Springfield")
    expect(field).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Apply").click()
    # The URL keeps the slug, so the page can be shared.
    expect(page).to_have_url(re.compile(r"/twinnings/\?.*\bcity=springfield-missouri-us\b"))
    expect(page.locator("table.results tbody tr")).to_have_count(1)
    expect(page.locator("table.results tbody")).to_contain_text("Kyiv")


def test_a_later_answer_keeps_the_place_the_reader_highlighted(page, live_server, springfields):
    """Suggestions for a longer prefix arrive after the reader has moved down the list
    (typing slowly, or a slow server): the highlighted place stays highlighted."""
    page.goto(live_server.url + "/twinnings/")
    field = page.get_by_role("combobox", name="City (either side)")
    options = page.get_by_role("listbox", name="Places matching what you type").get_by_role(
        "option"
    )
    field.press_sequentially("Spring")
    expect(options).to_have_count(2)
    field.press("ArrowDown")
    field.press("ArrowDown")
    earlier = options.first.element_handle()
    with page.expect_response(re.compile(r"/cities/autocomplete/\?q=Springf$")):
        field.press("f")
    earlier.wait_for_element_state("hidden")  # the list is drawn again, with new options
    missouri = options.filter(has_text="Missouri")
    expect(missouri).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", missouri.get_attribute("id"))
    field.press("Enter")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/twinnings/\?.*\bcity=springfield-missouri-us\b"))


def test_a_name_typed_without_choosing_is_resolved_by_the_server(page, live_server, springfields):
    page.goto(live_server.url + "/twinnings/")
    field = page.get_by_role("combobox", name="City (either side)")
    field.fill("Kiev")
    field.press("Escape")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"\?city=kyiv-ua$"))
    expect(page.locator("table.results tbody tr")).to_have_count(1)


def test_an_ambiguous_name_offers_the_places_to_choose(page, live_server, springfields):
    page.goto(live_server.url + "/twinnings/?city=Springfield")
    expect(page.locator(".field-error")).to_contain_text("“Springfield” names 2 places")
    page.get_by_role("link", name="Springfield (Illinois, United States of America)").click()
    expect(page).to_have_url(re.compile(r"\?city=springfield-illinois-us$"))
    expect(page.locator("table.results tbody")).to_contain_text("Munich")

"""In a real browser: an editor adds a twinning with the city autocomplete, a chief
editor publishes it, and the public pages show it."""

import importlib
from io import StringIO
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from activities.models import Source, Twinning
from cities.models import City

PASSWORDS = {"ada": "a long passphrase 42", "grace": "another long one 17"}

pytestmark = [pytest.mark.e2e, pytest.mark.writes]


@pytest.fixture
def editor_groups(db):
    """The Editors and Chief editors groups. A migration creates them, but a browser
    test before this one (live_server: a transactional test) may have flushed them."""
    migration = importlib.import_module("activities.migrations.0002_editor_groups")
    if not Group.objects.filter(name=migration.EDITOR_GROUP).exists():
        state = MigrationLoader(connection).project_state(("activities", "0002_editor_groups"))
        migration.create_groups(state.apps, SimpleNamespace(connection=connection))


@pytest.fixture
def catalogue_with_two_cities(editor_groups):
    source = Source.objects.create(
        key="wiki-coventry", title="Coventry", url="https://example.org/c", kind="reference"
    )
    coventry = City.objects.create(name="Coventry", country="GB", slug="coventry-gb")
    dresden = City.objects.create(name="Dresden", country="DE", slug="dresden-de")
    for city in (coventry, dresden):
        city.sources.add(source)
    for username, extra in (("ada", []), ("grace", ["--chief"])):
        call_command(
            "create_editor", username, "--password", PASSWORDS[username], *extra, stdout=StringIO()
        )
    return coventry, dresden


def log_in(browser, live_server, username):
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORDS[username])
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def choose(page, field, typed, option):
    """Pick `option` in the select2 autocomplete of `field` after typing `typed`."""
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", typed)
    page.click(f".select2-results__option:has-text('{option}')")


def test_editor_adds_twinning_chief_publishes_it_public_pages_show_it(
    browser, live_server, catalogue_with_two_cities
):
    coventry, _dresden = catalogue_with_two_cities

    editor = log_in(browser, live_server, "ada")
    editor.goto(f"{live_server.url}/admin/activities/twinning/add/")
    assert editor.locator("#id_review_state").count() == 0  # editors cannot publish
    choose(editor, "city_a", "Coven", "Coventry (GB)")
    choose(editor, "city_b", "germany", "Dresden (DE)")  # by country name
    choose(editor, "sources", "Cov", "Coventry")
    editor.fill("#id_start_year", "1959")
    editor.fill("#id_change_reason", "Council minutes, 1959")
    with editor.expect_navigation():
        editor.click("input[name=_save]")
    assert editor.url == f"{live_server.url}/admin/activities/twinning/"
    assert "was added successfully" in editor.content()

    twinning = Twinning.objects.get()
    assert (twinning.city_a.slug, twinning.city_b.slug, twinning.review_state) == (
        "coventry-gb",
        "dresden-de",
        "draft",
    )
    public = browser.new_context().new_page()
    assert public.goto(f"{live_server.url}/twinnings/{twinning.pk}/").status == 404
    public.goto(f"{live_server.url}{coventry.get_absolute_url()}")
    assert public.get_by_role("link", name="Dresden").count() == 0

    chief = log_in(browser, live_server, "grace")
    chief.goto(f"{live_server.url}/admin/activities/twinning/?review_state__exact=draft")
    chief.check(f"input[name=_selected_action][value='{twinning.pk}']")
    chief.select_option("select[name=action]", "publish")
    with chief.expect_navigation():
        chief.click("button[name=index]")
    assert "Published 1 record(s)." in chief.content()

    twinning.refresh_from_db()
    assert twinning.review_state == "published"
    history = twinning.history.all()
    assert [(h.history_user.username, h.history_change_reason) for h in history] == [
        ("grace", "Published"),
        ("ada", "Council minutes, 1959"),
    ]
    detail = public.goto(f"{live_server.url}/twinnings/{twinning.pk}/")
    assert detail.status == 200
    assert "Coventry – Dresden" in public.locator("h1").inner_text()
    city_page = public.goto(f"{live_server.url}{coventry.get_absolute_url()}")
    assert city_page.status == 200
    assert public.get_by_role("link", name="Dresden").count() >= 1

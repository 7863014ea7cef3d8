"""Browser tests: Playwright driving Debian's headless chromium against live_server."""

import shutil
from pathlib import Path

import pytest
from django.db import connection, transaction

from tests.records import without_history, write_small_catalogue

CHROMIUM = Path("/usr/bin/chromium")
# Only the live server on the loopback can be reached: every other host name fails to
# resolve, as offline. Chromium does this itself; routing each request through
# Playwright's handler in the test process cost the browser tests a third of their time.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    # One renderer process for all the tests' pages and the GPU thread in the browser
    # process: the browser tests took 47-50 CPU-s instead of 49-56 (serially), and 27.7-28.1 s
    # instead of 29.2-30.8 with `-n 2` (two runs each).
    "--renderer-process-limit=1",
    "--in-process-gpu",
]


def pytest_runtest_setup(item):
    """On PostgreSQL only the browser tests marked `writes` run: those that change records
    through the browser (the admin) and then read the public pages, where the database's
    own behaviour (its transactions, the catalogue version's triggers) is part of what is
    checked. The others check what the browser does with pages (scripts, styles, maps,
    accessibility, focus): the same pages and queries are checked on PostgreSQL without a
    browser by the rest of the suite, and a second chromium run of them cost the
    PostgreSQL suite about 25 s of its 65."""
    if connection.vendor != "sqlite" and item.get_closest_marker("writes") is None:
        pytest.skip(
            "a browser test of pages only: it runs on SQLite; on this database the same "
            "pages are checked without a browser, and the browser tests that write run"
        )


@pytest.fixture(scope="session")
def browser(live_server):
    """One browser for a session's (an xdist worker's) browser tests, which run after
    every other test (tests/conftest.py): launching chromium costs a CPU second.

    The live server starts before it and stops after it: the browser's open (keep-alive)
    connections must be closed before the server stops sharing the in-memory SQLite
    connection with the threads that serve them."""
    executable = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not executable:
        pytest.skip("chromium is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in the test thread, so Django takes the
    # tests' own ORM calls (fixtures writing rows for live_server) for async code. They
    # are plain synchronous code; allow them while the browser lives, and only then (the
    # deploy check refuses this variable, and other tests, which run before the browser
    # tests, run `check --deploy`).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(executable), args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    """A page that only reaches the live server (CHROMIUM_ARGS): tiles point at a path
    that 404s, so the maps must draw their markers without any tiles, as offline."""
    settings.MAP_TILE_URL = f"{live_server.url}/no-tiles/{{z}}/{{x}}/{{y}}.png"
    # Reduced motion, as a reader may ask of their system: maps zoom and fade in one
    # step, not in frames chromium would draw in software (about 2 s of the browser
    # tests). test_flows checks that maps animate when motion is not reduced.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    from playwright.sync_api import expect

    # 10 s, not Playwright's 5: on the 2-core machine chromium, the live server and the
    # other xdist worker share the cores, and under other jobs' load a place picker's
    # answer took longer than 5 s (a flaky failure, twice in a day). Only a failing
    # wait lasts that long.
    context.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def small_catalogue(transactional_db, source):
    """The small catalogue (tests/conftest.py), written for each browser test: the live
    server reads only committed records, which each browser test flushes after it.
    Written in one transaction (one commit, not one per row) and without history rows
    (tests/records.py, without_history)."""
    with transaction.atomic():
        return without_history(write_small_catalogue)(source)

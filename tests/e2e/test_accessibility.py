"""An axe-core audit of every kind of public page, on a desktop and a phone screen.

axe-core comes from npm (package.json; `make install` runs `npm ci`) and is evaluated
in the page through Playwright, which the Content Security Policy does not govern, so
the pages keep their strict policy while they are audited.
"""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 375)
# The WCAG 2.x A and AA rules (axe's tags), which is the standard the pages are held to;
# axe's best-practice rules on top made the audit take 22 s instead of 13 on this machine.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
}


LIST_PAGES = [
    "/",
    "/cities/",
    "/twinnings/",
    "/networks/",
    "/agreements/",
    "/activities/",
    "/memberships/",
    "/agreement-parties/",
]


def record_and_other_pages(catalogue):
    return [
        catalogue["coventry"].get_absolute_url(),
        catalogue["volgograd_link"].get_absolute_url(),
        catalogue["network"].get_absolute_url(),
        catalogue["pact"].get_absolute_url(),
        catalogue["activity"].get_absolute_url(),
        catalogue["theme"].get_absolute_url(),
        "/search/?q=coventry",
        "/about/",
        "/analysis/",
        "/analysis/?country=DE",
        "/data/",
    ]


# Each test audits half of the pages at both widths: two tests of several seconds, which
# the two xdist workers share at the end of the run.
PAGE_GROUPS = {"lists": lambda catalogue: LIST_PAGES, "records": record_and_other_pages}


def load_axe_with_each_page(page):
    """axe's source is sent to the browser once for the test, not with each audit (its
    650 kB through Playwright's pipe took a quarter of the audit's time). Each page
    gets a function that evaluates it; serious_violations() calls it at the page's first
    audit, once the page has loaded."""
    page.add_init_script("window.__loadAxe = () => {\n" + AXE.read_text() + "\n};")


def serious_violations(page):
    results = page.evaluate(
        f"window.axe || __loadAxe(), axe.run(document, {json.dumps(AXE_OPTIONS)})"
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("group", PAGE_GROUPS)
def test_no_serious_accessibility_violation_on_any_kind_of_page(
    page, live_server, small_catalogue, group
):
    """Each page is loaded once and audited at each width in turn, narrowing the window
    as a reader may: on a list, the filters a phone folds on arrival are then open, so
    the narrow audit sees them as a phone reader who opened them does (and everything
    the folded state shows). Loading each page again for the phone cost the browser
    tests 2 to 4 s of their 30 (bench/README.md)."""
    assert AXE.exists(), "axe-core is missing: run `make install` (npm ci)"
    load_axe_with_each_page(page)
    found = {}
    for path in PAGE_GROUPS[group](small_catalogue):
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        response = page.goto(live_server.url + path)
        assert response.status == 200, f"{path} answered {response.status}"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            violations = serious_violations(page)
            if violations:
                found[f"{path} at {width} px"] = violations
    assert found == {}, json.dumps(found, indent=1)

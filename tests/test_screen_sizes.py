"""Every screen size: the main pages of every role, with the demo data, never scroll the whole
page sideways at a phone's 390 px, a tablet's 768 px, a laptop's 1,366 px and a desktop's
1,920 px (wide tables scroll inside their own box, long values wrap); on a phone the navigation
collapses behind a button that opens it, and each of its links is then visible.

One app, one live server and one browser for the module, the users of tests/test_accessibility.py
logged in once each through the real two-step login. Each page is loaded once and measured at
every width (the viewport is resized: the layout is CSS alone, media queries and wrapping).
"""

from __future__ import annotations

from dataclasses import dataclass

import conftest
import pyotp
import pytest
import sqlalchemy as sa
from browser import Screenshots, find_chromium, launched, log_in, new_page, serving
from browser import module_database_url as module_database_url
from test_accessibility import AXE, BLOCKING, PASSWORD, RUN_AXE, USERS, _prepare, describe

from vendor_risk import create_app
from vendor_risk.db import db
from vendor_risk.models import (
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    System,
    User,
)

WIDTHS = (390, 768, 1366, 1920)
PHONE = 390
HEIGHT = 900
# Who looks -> the pages they work with: their navigation and the pages its lists lead to,
# with {placeholders} from the ids the fixture finds. Pages that procurement and risk officers
# share are seen by one of them (the layout does not depend on the role beyond the menu).
PAGES = {
    "anonymous": ["/auth/login"],
    "procurement": [
        "/procurement/",
        "/requests/",
        "/requests/{request}",
        "/requests/new",
        "/requests/reassessments",
        "/questionnaires/",
        "/questionnaires/{questionnaire}",
        "/questionnaires/{questionnaire}/versions/{version}",
        "/inventory/vendors/new",
        "/inventory/credentials",
        "/inventory/systems",
        "/inventory/systems/{system}",
        "/inventory/data-categories",
        "/inventory/zones",
        "/inventory/zones/{zone}",
        "/inventory/fourth-parties",
        "/inventory/fourth-parties/{fourth_party}",
        "/incidents/",
        "/account/",
    ],
    "officer": [
        "/risk/",
        "/review/",
        "/review/{review}",
        "/findings/",
        "/findings/{finding}",
        "/inventory/portfolio",
        "/inventory/vendors",
        "/inventory/vendors/{vendor}",
        "/inventory/vendors/{vendor}/data",
        "/inventory/vendors/{vendor}/credentials",
        "/inventory/vendors/{vendor}/subprocessors",
        "/inventory/vendors/{vendor}/blast-radius",
        "/inventory/vendors/{vendor}/risk",
        "/inventory/vendors/{vendor}/activity",
        "/incidents/{incident}",
        "/notifications/",
        "/account/notifications",
    ],
    "admin": [
        "/admin/",
        "/admin/users",
        "/admin/users/{user}",
        "/admin/users/{user}/edit",
        "/admin/audit",
        "/admin/outbox",
        "/admin/jobs",
        "/account/",
        "/account/emails",
    ],
    "contact": [
        "/portal/",
        "/portal/requests/{portal_request}",
        "/portal/findings",
        "/account/",
        "/notifications/",
    ],
}
# How wide the document is and, when too wide, what sticks out (outside the boxes that scroll
# on their own): the outermost elements past the window's right edge, else the innermost
# elements whose text is wider than they are.
MEASURE = """() => {
  const root = document.documentElement;
  const seen = { scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, out: [] };
  if (seen.scrollWidth <= seen.innerWidth) return seen;
  const scrolled = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const past = (e) =>
    e instanceof Element && e.getBoundingClientRect().right > root.clientWidth + 1;
  const spills = (e) => e.clientWidth && e.scrollWidth > e.clientWidth + 1 &&
    getComputedStyle(e).overflowX === "visible";
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    [...e.classList].map((c) => "." + c).join("");
  const all = [...document.querySelectorAll("body *")].filter((e) => !scrolled(e));
  const outermost = all.filter((e) => past(e) && !past(e.parentElement));
  const spilling = all.filter((e) => spills(e) && ![...e.children].some(spills));
  seen.out = (outermost.length ? outermost : spilling)
    .slice(0, 3)
    .map((e) => name(e) + " in " + name(e.parentElement));
  return seen;
}"""


@dataclass
class Site:
    base: str
    pages: dict  # principal -> playwright Page, logged in (or not, for anonymous)
    ids: dict[str, int]
    script_errors: list[str]
    shots: Screenshots  # of the pages too wide, at the width they fail


def _more_ids(app, ids: dict[str, int]) -> dict[str, int]:
    """The ids of the demo's pages test_accessibility does not visit."""
    with app.app_context():
        first = lambda column: db.session.scalar(sa.select(sa.func.min(column)))  # noqa: E731
        questionnaire = first(Questionnaire.id)
        return ids | {
            "request": first(QuestionnaireRequest.id),
            "questionnaire": questionnaire,
            "version": db.session.scalar(
                sa.select(sa.func.min(QuestionnaireVersion.number)).where(
                    QuestionnaireVersion.questionnaire_id == questionnaire
                )
            ),
            "system": first(System.id),
            "user": db.session.scalar(sa.select(User.id).where(User.email == USERS["officer"][0])),
        }


@pytest.fixture(scope="module")
def site(module_database_url, tmp_path_factory):
    chromium = find_chromium()
    config = conftest.TEST_CONFIG | {"DATABASE_URL": module_database_url, "WTF_CSRF_ENABLED": True}
    app = create_app(config, instance_path=str(tmp_path_factory.mktemp("instance")))
    secrets, ids = _prepare(app)
    ids = _more_ids(app, ids)
    script_errors: list[str] = []
    viewport = {"width": PHONE, "height": HEIGHT}
    with serving(app) as base, launched(chromium) as browser:
        pages = {"anonymous": new_page(browser.new_context(viewport=viewport), script_errors)}
        for who in PAGES.keys() - {"anonymous"}:
            pages[who] = new_page(browser.new_context(viewport=viewport), script_errors)
            email = USERS[who][0]
            log_in(pages[who], base, email, PASSWORD, pyotp.TOTP(secrets[who]).now)
        yield Site(base, pages, ids, script_errors, Screenshots("screen-sizes"))
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.mark.parametrize("who", list(PAGES))
def test_no_page_scrolls_sideways_at_any_width(site, who):
    """Each page at each width: the document is no wider than the window. All failures are
    collected (page, width, how wide, the last element past the edge) before the assertion."""
    page = site.pages[who]
    too_wide = []
    for path in PAGES[who]:
        url = site.base + path.format(**site.ids)
        site.script_errors.clear()
        page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
        response = page.goto(url)
        assert response.status == 200, f"{path}: {response.status}"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            seen = page.evaluate(MEASURE)
            if seen["scrollWidth"] > seen["innerWidth"]:
                name = path.format(**site.ids).strip("/").replace("/", "-")
                site.shots.take(page, f"{who}-{name}-{width}")
                too_wide.append(
                    f"{path} at {width} px is {seen['scrollWidth']} px wide"
                    f" (past the edge: {', '.join(seen['out'])})"
                )
        assert not site.script_errors, site.script_errors
    assert not too_wide, "\n".join(too_wide)


@pytest.mark.parametrize("who", ["procurement", "officer", "admin", "contact"])
def test_on_a_phone_the_menu_opens_and_shows_every_link(site, who):
    """At 390 px the navigation is behind a button that says whether it is open; opened (by
    the keyboard), every link of the menu is inside the window and axe-core finds nothing
    serious; Escape closes it again."""
    page = site.pages[who]
    page.set_viewport_size({"width": PHONE, "height": HEIGHT})
    page.goto(site.base + PAGES[who][0])
    toggle = page.locator(".site-header .nav-toggle")
    links = page.locator(".site-header nav a")
    assert links.count() > 0
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not links.first.is_visible(), "the menu is open before it is asked for"
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    for link in links.all():
        assert link.is_visible(), link.inner_text()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (link.inner_text(), box)
    # Open, the phone's layout passes axe-core as the wide one does (test_accessibility).
    page.evaluate(AXE)
    blocking = [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)
    # The menu is a list of links reached in order by Tab, then closed by Escape.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == links.first.inner_text()
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")
    assert not links.first.is_visible()


def test_on_a_wide_screen_the_menu_is_always_open(site):
    """From 768 px up there is no button: every link of the menu shows, wrapped if need be."""
    page = site.pages["officer"]
    page.set_viewport_size({"width": 768, "height": HEIGHT})
    page.goto(site.base + "/risk/")
    assert not page.locator(".site-header .nav-toggle").is_visible()
    for link in page.locator(".site-header nav a").all():
        assert link.is_visible(), link.inner_text()


@pytest.mark.parametrize("width", [1366, 1920])
def test_the_audit_trail_fits_a_laptop_screen_whole(site, width):
    """The audit trail does not merely scroll in its box at a laptop's width: every column
    shows (long values wrap), and a long value is folded, its whole text one click away."""
    page = site.pages["admin"]
    page.set_viewport_size({"width": width, "height": HEIGHT})
    page.goto(site.base + "/admin/audit")
    box = page.locator(".table-scroll:has(table.events)")
    sizes = box.evaluate("(e) => [e.scrollWidth, e.clientWidth]")
    assert sizes[0] <= sizes[1], f"the events are {sizes[0]} px wide in a {sizes[1]} px box"
    folded = page.locator("table.events details.detail").first
    assert folded.count(), "the demo's long values (a finding's justification) are folded"
    whole = folded.locator("code")
    assert not whole.is_visible()
    folded.locator("summary").click()
    assert whole.is_visible()
    assert box.evaluate("(e) => e.scrollWidth <= e.clientWidth")

"""Accessibility: the main pages, with the demo data, pass axe-core with no serious or critical
violation, each page seen by the user it is for.

axe-core is vendored in tests/assets/axe-core (no network). The pages' CSP forbids inline
scripts, so axe is not added as a <script>: its source is evaluated through Playwright
(``page.evaluate``, the DevTools protocol, which the page's CSP does not govern). The pages keep
their real CSP; no context bypasses it.

One app, one live server and one browser for the module (each user logged in once, through the
real two-step login); each page is its own test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import conftest
import pyotp
import pytest
import sqlalchemy as sa
from browser import (
    ROOT,
    VIEWPORT,
    Screenshots,
    enter_password,
    find_chromium,
    launched,
    log_in,
    new_page,
    serving,
)
from browser import module_database_url as module_database_url

from vendor_risk import create_app
from vendor_risk.db import db, utcnow
from vendor_risk.models import DataCategory, Finding, Role, System, SystemZone, Vendor
from vendor_risk.services import blast_radius, incidents, inventory
from vendor_risk.services.accounts import users as accounts
from vendor_risk.services.audit import Actor
from vendor_risk.services.demo import IDENTITY_PROVIDER
from vendor_risk.services.questionnaires import answers, review

AXE = (ROOT / "tests/assets/axe-core/axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
PASSWORD = "accessible pages for every reader"
USERS = {  # principal -> (email, name, role); the contact is one of the identity provider's
    "officer": ("rita@example.com", "Rita Risk", Role.risk_officer),
    "procurement": ("pat@example.com", "Pat Procurement", Role.procurement),
    "admin": ("ada@example.com", "Ada Admin", Role.admin),
    "contact": ("sam@keystone-identity.example", "Sam Support", Role.vendor_contact),
    # Past the password only: one at the code step, one who has no authenticator yet.
    "half": ("hal@example.com", "Hal Half", Role.procurement),
    "newcomer": ("noor@example.com", "Noor New", Role.procurement),
}
PASSWORD_ONLY = {"half", "newcomer"}
# (test id, who looks, path with {placeholders} from the ids the fixture finds)
PAGES = [
    ("login", "anonymous", "/auth/login"),
    ("mfa", "half", "/auth/mfa"),
    ("enrol", "newcomer", "/auth/enrol"),
    ("account", "contact", "/account/"),
    ("notifications", "officer", "/notifications/"),
    ("notification-preferences", "contact", "/account/notifications"),
    ("risk-home", "officer", "/risk/"),
    ("procurement-home", "procurement", "/procurement/"),
    ("portal-home", "contact", "/portal/"),
    ("vendors", "officer", "/inventory/vendors"),
    ("vendor-profile", "officer", "/inventory/vendors/{vendor}"),
    ("vendor-blast-radius", "officer", "/inventory/vendors/{vendor}/blast-radius"),
    ("vendor-risk", "officer", "/inventory/vendors/{vendor}/risk"),
    ("vendor-activity", "officer", "/inventory/vendors/{vendor}/activity"),
    ("vendor-activity-procurement", "procurement", "/inventory/vendors/{vendor}/activity"),
    ("vendor-credentials", "procurement", "/inventory/vendors/{vendor}/credentials"),
    ("portfolio", "officer", "/inventory/portfolio"),
    ("credentials", "officer", "/inventory/credentials"),
    ("vendor-subprocessors", "procurement", "/inventory/vendors/{vendor}/subprocessors"),
    ("zones", "officer", "/inventory/zones"),
    ("zone", "officer", "/inventory/zones/{zone}"),
    ("fourth-parties", "officer", "/inventory/fourth-parties"),
    ("fourth-party", "officer", "/inventory/fourth-parties/{fourth_party}"),
    ("findings", "officer", "/findings/"),
    ("finding", "officer", "/findings/{finding}"),
    ("requests", "procurement", "/requests/"),
    ("review", "officer", "/review/{review}"),
    ("portal-form", "contact", "/portal/requests/{portal_request}"),
    ("incident", "officer", "/incidents/{incident}"),
    ("admin-users", "admin", "/admin/users"),
    ("admin-jobs", "admin", "/admin/jobs"),
    ("bulk-exports", "officer", "/reports/exports"),
    # Forms, where labels and help texts go wrong first.
    ("new-vendor", "procurement", "/inventory/vendors/new"),
    ("new-request", "procurement", "/requests/new"),
    (
        "new-request-from-vendor",
        "procurement",
        "/requests/new?vendor_id={vendor}&next=/inventory/vendors/{vendor}/activity",
    ),
    ("new-credential", "procurement", "/inventory/credentials/new?holder_vendor_id={vendor}"),
    ("new-finding", "officer", "/findings/new?vendor_id={vendor}"),
]

# What axe reports of each violation, as plain values (a rule, and where it fails).
RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@dataclass
class Site:
    base: str
    pages: dict  # principal -> playwright Page, logged in
    ids: dict[str, int]
    script_errors: list[str]
    shots: Screenshots  # of the pages that fail, to see what axe points at


def _user(email: str, name: str, role: Role, vendor_id: int | None, enrolled: bool) -> str:
    """A user, with an authenticator enrolled already unless told; returns its TOTP secret."""
    user = accounts.create_user(
        db.session,
        email=email,
        name=name,
        password=PASSWORD,
        role=role,
        vendor_id=vendor_id,
        actor=Actor.system("tests"),
    )
    if enrolled:
        user.totp_secret, user.totp_confirmed_at = pyotp.random_base32(), utcnow()
    return user.totp_secret


def _prepare(app) -> tuple[dict[str, str | None], dict[str, int]]:
    """The demo data, the users who look, an incident (the demo has none), and the ids the
    pages' paths need."""
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        vendor = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
        secrets = {
            who: _user(
                email,
                name,
                role,
                vendor_id=vendor if who == "contact" else None,
                enrolled=who != "newcomer",
            )
            for who, (email, name, role) in USERS.items()
        }
        db.session.flush()
        officer = accounts.get_by_email(db.session, USERS["officer"][0])
        started = utcnow() - timedelta(days=3)
        incident = incidents.open_incident(
            db.session,
            {
                "vendor_id": vendor,
                "title": "Support system breach",
                "started_at": started,
                "detected_at": started + timedelta(days=1),
                "notes": "Session tokens taken from support tickets.",
            },
            actor=Actor(label=officer.email, user_id=officer.id),
        )
        made = _zones_and_fourth_party(vendor)
        db.session.commit()
        contact = accounts.get_by_email(db.session, USERS["contact"][0])
        queue = review.review_queue(db.session).rows
        portal = answers.requests_of_contact(db.session, contact, today=utcnow().date())
        ids = {
            "vendor": vendor,
            "finding": db.session.scalar(
                sa.select(sa.func.min(Finding.id)).where(Finding.vendor_id == vendor)
            ),
            # A request waiting for review, so its page shows the reviewer's forms (the
            # identity provider's baseline is accepted in the demo).
            "review": queue[0].id,
            "portal_request": next(r.id for r in portal if r.editable),
            "incident": incident.id,
            **made,
        }
    return secrets, ids


def _zones_and_fourth_party(vendor_id: int):
    """Two network zones, one reaching the other with a system in it, and a fourth party the
    identity provider passes data to (the demo has none): their ids for the pages' paths."""
    actor = Actor.system("tests")
    office = inventory.create_zone(
        db.session, {"name": "Office network (a11y)", "description": "Desks"}, actor=actor
    )
    production = inventory.create_zone(db.session, {"name": "Production (a11y)"}, actor=actor)
    inventory.add_reach(db.session, office, production.id, actor=actor)
    system = db.session.scalar(sa.select(System.id).order_by(System.id).limit(1))
    db.session.add(SystemZone(system_id=system, zone_id=office.id))
    categories = list(
        db.session.scalars(sa.select(DataCategory.id).order_by(DataCategory.id).limit(2))
    )
    link = inventory.add_subprocessor(
        db.session,
        db.session.get(Vendor, vendor_id),
        fourth_party_name="Postbox Relay (a11y)",
        fourth_party_service="E-mail delivery",
        purpose="Sends the sign-in e-mails",
        data_category_ids=categories,
        actor=actor,
    )
    return {
        "zone": office.id,
        "fourth_party": link.fourth_party_id,
        "link": link.id,
        "data_category": categories[0],
    }


@pytest.fixture(scope="module")
def site(module_database_url, tmp_path_factory):
    chromium = find_chromium()
    config = conftest.TEST_CONFIG | {"DATABASE_URL": module_database_url, "WTF_CSRF_ENABLED": True}
    app = create_app(config, instance_path=str(tmp_path_factory.mktemp("instance")))
    secrets, ids = _prepare(app)
    script_errors: list[str] = []
    with serving(app) as base, launched(chromium) as browser:
        pages = {"anonymous": new_page(browser.new_context(viewport=VIEWPORT), script_errors)}
        for who, secret in secrets.items():
            pages[who] = new_page(browser.new_context(viewport=VIEWPORT), script_errors)
            email = USERS[who][0]
            if who in PASSWORD_ONLY:
                enter_password(pages[who], base, email, PASSWORD)
            else:
                log_in(pages[who], base, email, PASSWORD, pyotp.TOTP(secret).now)
        yield Site(base, pages, ids, script_errors, Screenshots("accessibility"))
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def describe(violations: list[dict]) -> str:
    """Each violation with what a developer needs to fix it: rule, impact, where, and how."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}. {v['helpUrl']}")
        shown = v["targets"][:10]
        lines += [f"    at {target}" for target in shown]
        if len(v["targets"]) > len(shown):
            lines.append(f"    and {len(v['targets']) - len(shown)} more")
    return "\n".join(lines)


def assert_accessible(site: Site, page, name: str) -> None:
    """No serious or critical violation on the page as it is now (else a screenshot of it)."""
    page.evaluate(AXE)
    violations = page.evaluate(RUN_AXE)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    if blocking:
        site.shots.take(page, name)
    assert not blocking, f"{page.url}\n{describe(blocking)}"


@pytest.mark.parametrize(("name", "who", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_or_critical_accessibility_violation(site, name, who, path):
    page = site.pages[who]
    site.script_errors.clear()  # this page's own
    response = page.goto(site.base + path.format(**site.ids))
    assert response.status == 200, f"{path}: {response.status}"
    assert_accessible(site, page, name)
    assert not site.script_errors, site.script_errors


def test_a_form_showing_its_errors_has_no_serious_violation(site):
    """Errors are drawn in red next to their fields: they must stay readable and tied to
    their field."""
    page = site.pages["procurement"]
    page.goto(f"{site.base}/inventory/vendors/new")
    page.fill("#website", "not a web address")
    page.get_by_role("button", name="Create vendor").click()
    # The click returns before the refused form's page has loaded: wait for it.
    page.wait_for_selector("#name-error")
    assert page.is_visible("#name-error") and page.is_visible("#website-error")
    assert page.get_attribute("#name", "aria-invalid") == "true"
    assert_accessible(site, page, "new-vendor-with-errors")


def test_a_subprocessor_row_showing_its_error_has_no_serious_violation(site):
    """The records of one data category passed on, refused at that row's field."""
    page = site.pages["procurement"]
    page.goto(f"{site.base}/inventory/vendors/{site.ids['vendor']}/subprocessors")
    field = f"#link-{site.ids['link']}-data-{site.ids['data_category']}-records"
    page.fill(field, "-1")
    page.locator(field).press("Enter")
    page.wait_for_selector(f"{field}-error")
    assert page.get_attribute(field, "aria-invalid") == "true"
    assert_accessible(site, page, "vendor-subprocessors-with-errors")

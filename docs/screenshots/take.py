"""Take the README's screenshots of real pages: the app on a new SQLite database with the demo
data, a real browser (Debian's chromium driven by Playwright), a real two-step login as a risk
officer, as procurement and as a contact of the demo's identity provider; and the first pages
of the identity provider's PDF assessment, as the app exports it, turned into pictures by
poppler's pdftoppm.

    .venv/bin/python docs/screenshots/take.py            # writes docs/screenshots/*.png

Needs the dev extras (playwright), chromium and poppler-utils (`apt-get install chromium
poppler-utils`).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from vendor_risk import create_app
from vendor_risk.db import alembic_config, db, utcnow
from vendor_risk.models import (
    FourthParty,
    NetworkZone,
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Role,
    System,
)
from vendor_risk.services import blast_radius, incidents, outbox
from vendor_risk.services.accounts import users as accounts
from vendor_risk.services.audit import Actor
from vendor_risk.services.demo import IDENTITY_PROVIDER
from vendor_risk.services.questionnaires import answers, requests

HERE = Path(__file__).resolve().parent
OFFICER, PASSWORD = "screens@example.com", "screenshots only, never a real password"
BUYER = "buyer@example.com"  # procurement
# A contact of the identity provider, to show its portal.
CONTACT = "screens@keystone-identity.example"
OPERATOR = "operator@example.com"  # an admin, for the background jobs' page
# (file name, who looks, path with {placeholders} from prepare(), whole page or the first
# screenful after its anchor)
PAGES = [
    ("risk-dashboard.png", OFFICER, "/risk/", True),
    ("procurement-dashboard.png", BUYER, "/procurement/", True),
    ("portal-home.png", CONTACT, "/portal/", True),
    ("portfolio.png", OFFICER, "/inventory/portfolio", True),
    ("vendors.png", OFFICER, "/inventory/vendors?sort=blast_radius&direction=desc", True),
    ("blast-radius.png", OFFICER, "/inventory/vendors/{vendor_id}/blast-radius", True),
    ("vendor-risk.png", OFFICER, "/inventory/vendors/{vendor_id}/risk", False),
    ("findings.png", OFFICER, "/findings/", True),
    ("review.png", OFFICER, "/review/{review_id}#q-sup-receives-har-files", False),
    ("portal-form.png", CONTACT, "/portal/requests/{portal_id}", False),
    ("system-sign-in.png", OFFICER, "/inventory/systems/{idp_system_id}#sign-in", False),
    ("system-software.png", OFFICER, "/inventory/systems/{build_system_id}#software", False),
    ("zone.png", OFFICER, "/inventory/zones/{zone_id}", True),
    ("fourth-party.png", OFFICER, "/inventory/fourth-parties/{fourth_party_id}", True),
    ("vendor-activity.png", OFFICER, "/inventory/vendors/{vendor_id}/activity", True),
    ("notifications.png", OFFICER, "/notifications/", True),
    ("your-emails.png", BUYER, "/account/emails", True),
    ("bulk-export.png", BUYER, "/reports/exports/{export_id}", True),
    ("admin-jobs.png", OPERATOR, "/admin/jobs", True),
]
# The admin's first steps, on an instance with nothing in it but that admin.
ADMIN = "admin@example.com"
EMPTY_PAGES = [("first-steps.png", ADMIN, "/admin/", True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def enrolled_user(email: str, name: str, role: Role, vendor_id: int | None = None) -> str:
    """A user who has enrolled an authenticator already; returns its TOTP secret."""
    user = accounts.create_user(
        db.session,
        email=email,
        name=name,
        password=PASSWORD,
        role=role,
        vendor_id=vendor_id,
        actor=Actor.system("screenshots"),
    )
    user.totp_secret, user.totp_confirmed_at = pyotp.random_base32(), utcnow()
    return user.totp_secret


def _id_of(model, name: str) -> int:
    """The id of the demo's row of that name (the demo names each once)."""
    return db.session.scalar(sa.select(model.id).where(model.name == name))


def prepare(workdir: Path):
    """The app on a new database with the demo data, the two users who look, and the ids the
    pages' paths need."""
    from alembic import command

    url = f"sqlite:///{workdir / 'screens.sqlite'}"
    app = create_app({"SECRET_KEY": "s" * 40, "DATABASE_URL": url}, instance_path=str(workdir))
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
        result = app.test_cli_runner().invoke(args=["demo"])
        if result.exit_code:
            sys.exit(result.output)
        vendor_id = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
        totp_secrets = {
            OFFICER: enrolled_user(OFFICER, "Rita Risk", Role.risk_officer),
            BUYER: enrolled_user(BUYER, "Pat Procurement", Role.procurement),
            CONTACT: enrolled_user(CONTACT, "Sam Support", Role.vendor_contact, vendor_id),
            OPERATOR: enrolled_user(OPERATOR, "Olu Operator", Role.admin),
        }
        db.session.commit()
        # What needs the people who look now (the demo told its own users already): the time-
        # based events, and procurement opening an incident at the identity provider, as in 2023.
        result = app.test_cli_runner().invoke(args=["notifications", "run-due"])
        if result.exit_code:
            sys.exit(result.output)
        buyer = accounts.get_by_email(db.session, BUYER)
        now = datetime.now(UTC)
        incidents.open_incident(
            db.session,
            {
                "vendor_id": vendor_id,
                "title": "Support system breach at Keystone Identity",
                "started_at": now - timedelta(days=2),
                "detected_at": now - timedelta(hours=3),
                "notes": "",
            },
            actor=Actor(BUYER, user_id=buyer.id),
        )
        db.session.commit()
        # The identity provider's baseline, with its answers on HAR files (accepted in the demo).
        baseline = db.session.scalar(
            sa.select(QuestionnaireRequest.id)
            .join(QuestionnaireVersion, QuestionnaireVersion.id == QuestionnaireRequest.version_id)
            .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
            .where(
                QuestionnaireRequest.vendor_id == vendor_id,
                Questionnaire.key == "baseline-security",
            )
            .order_by(QuestionnaireRequest.id.desc())
            .limit(1)
        )
        contact = accounts.get_by_email(db.session, CONTACT)
        portal = answers.requests_of_contact(db.session, contact, today=utcnow().date())
        portal_id = next(r.id for r in portal if r.editable)
        # Procurement reminds the identity provider's contacts of their open questionnaire.
        requests.remind_now(db.session, portal_id, actor=Actor(BUYER, user_id=buyer.id))
        db.session.commit()
        outbox.deliver_due(db.session)  # as quickstart's worker does: kept, without SMTP
        # Procurement's zip of the critical vendors' assessments, built as the worker does.
        from vendor_risk.models import Criticality
        from vendor_risk.reports import bulk_exports as zips
        from vendor_risk.services import bulk_exports

        export = bulk_exports.request_export(
            db.session,
            filters={"criticality": Criticality.critical},
            shown_filters={"Criticality": "Critical"},
            max_vendors=500,
            actor=Actor(BUYER, user_id=buyer.id),
        )
        db.session.commit()
        zips.build(db.session, export.id, checkpoint=db.session.commit)
        db.session.commit()
        # The worker's periodic jobs as an admin sees them after a first run.
        from vendor_risk.jobs import BY_NAME, queue_of

        for job in ("outbox.sweep", "portfolio.sweep", "findings.expire"):
            queue_of(app).execute(BY_NAME[job], (), None)
        ids = {
            "idp_system_id": _id_of(System, "Identity provider tenant"),
            "build_system_id": _id_of(System, "Build pipeline"),
            "zone_id": _id_of(NetworkZone, "Corporate network"),
            "fourth_party_id": _id_of(FourthParty, "Stratus Hosting"),
            "vendor_id": vendor_id,
            "review_id": baseline,
            "portal_id": portal_id,
            "export_id": export.id,
        }
    return app, totp_secrets, ids


def prepare_empty(workdir: Path):
    """A new instance with nothing in it but its first admin (`quickstart --no-demo`)."""
    from alembic import command

    url = f"sqlite:///{workdir / 'empty.sqlite'}"
    app = create_app({"SECRET_KEY": "e" * 40, "DATABASE_URL": url}, instance_path=str(workdir))
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
        secrets = {ADMIN: enrolled_user(ADMIN, "Ada Admin", Role.admin)}
        db.session.commit()
    return app, secrets


def shoot(browser, app, totp_secrets: dict[str, str], pages: list, ids: dict) -> None:
    """Serve ``app`` on loopback, log each user in, and take each page."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        tabs = {}
        for email, secret in totp_secrets.items():
            tabs[email] = browser.new_page(viewport={"width": 1280, "height": 900})
            log_in(tabs[email], base, email, secret)
        for name, email, path, full_page in pages:
            tab = tabs[email]
            tab.goto(base + path.format(**ids))
            tab.screenshot(path=str(HERE / name), full_page=full_page)
            print(f"{HERE / name}: {tab.title()}")
    finally:
        server.shutdown()


# (file name, page of the assessment): the cover and the blast radius.
PDF_PAGES = [("report-cover.png", 1), ("report-blast-radius.png", 5)]


def report_pages(app, workdir: Path) -> None:
    """The identity provider's assessment exported by the command, its pages as pictures."""
    pdf = workdir / "assessment.pdf"
    result = app.test_cli_runner().invoke(args=["report", IDENTITY_PROVIDER, "-o", str(pdf)])
    if result.exit_code:
        sys.exit(result.output)
    for name, number in PDF_PAGES:
        stem = workdir / name.removesuffix(".png")
        page = str(number)
        command = ["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", page, "-l", page]
        # Our own file names, no shell: nothing untrusted reaches the command.
        subprocess.run([*command, str(pdf), str(stem)], check=True)  # noqa: S603
        shutil.copyfile(f"{stem}.png", HERE / name)
        print(f"{HERE / name}: page {number} of the assessment")


def log_in(page: Page, base: str, email: str, secret: str) -> None:
    """The real two-step login: password, then the authenticator's code."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm is not installed (apt-get install poppler-utils)")
    workdir = Path(tempfile.mkdtemp())
    app, totp_secrets, ids = prepare(workdir)
    empty_app, empty_secrets = prepare_empty(workdir)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            shoot(browser, app, totp_secrets, PAGES, ids)
            shoot(browser, empty_app, empty_secrets, EMPTY_PAGES, {})
            browser.close()
        report_pages(app, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

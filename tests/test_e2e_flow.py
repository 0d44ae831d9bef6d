"""The whole flow in a real browser, as its three people live it: procurement registers a vendor
and sends it a questionnaire; the vendor's contact opens the invitation from the email (caught
by a real SMTP server on loopback), chooses a password, enrols an authenticator, answers with
autosave (a reload keeps the answers), attaches evidence and submits; the risk officer reviews
and accepts the answers, opens a finding, approves the vendor and downloads the assessment PDF,
whose text is checked.

Debian's chromium driven by Playwright, the app served on loopback with CSRF on. Nothing is
written to the database behind the pages' back except the two staff accounts (enrolled) and the
questionnaire stored by the command a deployment runs. Screenshots of each step are kept in
VR_TEST_ARTIFACTS (tests/browser.py).
"""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime, timedelta

import pyotp
from browser import ROOT, VIEWPORT, Screenshots, launched, log_in, new_page, serving
from conftest import deliver, update_portfolio
from pypdf import PdfReader, PdfWriter

from vendor_risk.models import Role

VENDOR = "Northwind Helpdesk"
QUESTIONNAIRE = "Credentials you hold for us"
CONTACT, CONTACT_NAME = "dana@northwind.example", "Dana Whitfield"
CONTACT_PASSWORD = "seven lanterns over the harbour wall"
URGENT_CONTACT = "Dana Whitfield, security lead, +44 20 7946 0000"
EVIDENCE = "credential-storage-policy.pdf"
FINDING = "Support staff strip HAR files by hand"

# The contact's answers: question id -> option value(s), or text. All but the last three are
# given before the reload that checks autosave kept them.
ANSWERS: dict[str, str | list[str]] = {
    "vc-credential-kinds": ["api-token", "service-account"],
    "vc-credential-inventory": "yes",
    "vc-storage": "vault-hsm",
    "vc-no-stray-copies": "yes",
    "vc-who-can-retrieve": "named-approved",
    "vc-retrieval-mfa": "yes",  # asked because people can retrieve them
    "vc-source-addresses": "fixed-published",
    "vc-use-logged": "yes",
    "vc-logs-on-request": "yes",  # asked because use is logged
    "vc-misuse-alerting": "yes",
    "vc-rotation-on-request": "self-service",
    "vc-rotation-on-departure": "yes",
    "vc-revocation-time": "one-hour",
    "vc-deletion-at-exit": "yes",
    "vc-support-tenant-access": "we-grant",
    "vc-support-access-visible": "yes",
    "vc-har-handling": "manual",
    "vc-ticket-attachment-retention": "thirty-days",
    "vc-ticket-credentials": "auto-redact-notify",
    "vc-exposure-notice-time": "within-24h",
    "vc-exposure-detail": "yes",
    "vc-urgent-contact": URGENT_CONTACT,
}
BEFORE_RELOAD = list(ANSWERS)[:4]


def evidence_pdf() -> bytes:
    """A small real PDF: the evidence checks the content, not the name."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def answer(page, question_id: str, value: str | list[str]) -> None:
    """Give one answer as a person does, and wait until the page says it is saved."""
    fieldset = f"#q-{question_id}"
    status = f"{fieldset}-status.save-status-ok"
    if isinstance(value, list):
        for option in value:
            page.check(f"{fieldset} input[value='{option}']")
            page.wait_for_selector(status)
    elif page.locator(f"{fieldset} input[type=radio]").count():
        page.check(f"{fieldset} input[value='{value}']")
        page.wait_for_selector(status)
    else:
        page.fill(f"#a-{question_id}", value)
        page.click(f"#c-{question_id}")  # leaving the field saves it
        page.wait_for_selector(status)


def assert_answered(page, question_id: str, value: str | list[str]) -> None:
    if isinstance(value, list):
        for option in value:
            assert page.is_checked(f"#q-{question_id} input[value='{option}']"), question_id
    elif page.locator(f"#q-{question_id} input[type=radio]").count():
        assert page.is_checked(f"#q-{question_id} input[value='{value}']"), question_id
    else:
        assert page.input_value(f"#a-{question_id}") == value, question_id


def open_risk_tab(page) -> None:
    """Through the menu: the vendor list, the vendor, its Risk tab."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vendors").click()
    page.get_by_role("link", name=VENDOR, exact=True).click()
    page.get_by_role("navigation", name=VENDOR).get_by_role("link", name="Risk").click()
    page.wait_for_url(re.compile(r".*/inventory/vendors/\d+/risk$"))


def flashed(page, message: str | re.Pattern) -> None:
    """Wait for the message the page flashes after an action (the next page may still load)."""
    from playwright.sync_api import expect  # the dev extras: the chromium fixture skips without

    expect(page.locator(".flash").filter(has_text=message)).to_be_visible()


def test_procurement_to_vendor_to_risk_officer_and_the_assessment_pdf(
    make_app, make_user, smtp_server, chromium
):
    from playwright.sync_api import expect

    app = make_app(WTF_CSRF_ENABLED=True, **smtp_server.config)
    # The library as after `quickstart`: the deployment stores the shipped questionnaire.
    stored = app.test_cli_runner().invoke(
        args=["questionnaires", "import", str(ROOT / "questionnaires/vendor-credentials.yaml")]
    )
    assert stored.exit_code == 0, stored.output
    buyer = make_user(Role.procurement, email="pat@example.com")
    officer = make_user(Role.risk_officer, email="rita@example.com")
    shots = Screenshots("e2e")
    script_errors: list[str] = []

    with serving(app) as base, launched(chromium) as browser:
        # ---- procurement: the vendor, then the questionnaire ---------------------------------
        page = new_page(browser.new_context(viewport=VIEWPORT), script_errors)
        log_in(page, base, buyer.email, buyer.password, pyotp.TOTP(buyer.totp_secret).now)
        assert page.url == f"{base}/procurement/"
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Vendors").click()
        page.get_by_role("link", name="New vendor").click()
        page.fill("#name", VENDOR)
        page.fill("#services", "Runs our customer support desk; holds an API token to our CRM.")
        page.select_option("#criticality", "high")
        page.fill("#business_owner", "Customer support")
        shots.take(page, "procurement-new-vendor")
        page.get_by_role("button", name="Create vendor").click()
        page.wait_for_url(re.compile(r".*/inventory/vendors/\d+$"))
        assert page.locator("h1").inner_text().startswith(VENDOR)

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests").click()
        page.get_by_role("link", name="New request", exact=True).click()
        page.fill("#vendor_id", VENDOR[:4])  # the box offers the names that match
        expect(page.locator(f'#vendor_id-names option[value="{VENDOR}"]')).to_have_count(1)
        page.fill("#vendor_id", VENDOR)
        version = page.locator("#version_id option", has_text=QUESTIONNAIRE).get_attribute("value")
        page.select_option("#version_id", version)
        page.fill("#due_on", (datetime.now(UTC).date() + timedelta(days=14)).isoformat())
        page.fill("#contact_emails", CONTACT)
        page.get_by_role("button", name="Create and send").click()
        page.wait_for_url(re.compile(r".*/requests/\d+$"))
        flashed(page, "Request created and sent to the vendor.")
        flashed(page, "1 email queued")
        shots.take(page, "procurement-request-sent")

        # ---- the vendor's contact: the email, the account, the authenticator -------------------
        # The outbox worker, in a thread of its own as in a real worker (this one runs
        # Playwright's event loop, where Flask cannot end an app context).
        worker = threading.Thread(target=deliver, args=(app,))
        worker.start()
        worker.join(timeout=30)
        (invitation,) = smtp_server.to(CONTACT)
        body = invitation.get_content()
        assert VENDOR in body and QUESTIONNAIRE in body
        link = re.search(re.escape(base) + r"/invite/\S+", body).group(0)

        page = new_page(browser.new_context(viewport=VIEWPORT), script_errors)
        page.goto(link)
        assert f"Invitation to the vendor portal of {VENDOR}" in page.locator("h1").inner_text()
        page.fill("#name", CONTACT_NAME)
        page.fill("#password", CONTACT_PASSWORD)
        page.fill("#confirm_password", CONTACT_PASSWORD)
        shots.take(page, "vendor-invitation")
        page.get_by_role("button", name="Accept and create my account").click()
        page.wait_for_url(f"{base}/auth/enrol")
        secret = page.inner_text("#totp-secret").replace(" ", "")
        shots.take(page, "vendor-enrol")
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Confirm and continue").click()
        page.wait_for_selector("ol.recovery-codes")
        assert page.locator("ol.recovery-codes li").count() == 10
        shots.take(page, "vendor-recovery-codes")
        page.get_by_role("link", name="I have saved them: continue").click()
        page.wait_for_url(f"{base}/portal/")

        # ---- answers, saved as given; a reload keeps them -------------------------------------
        assert QUESTIONNAIRE in page.inner_text("main")
        page.locator("main a[href*='/portal/requests/']").first.click()
        page.wait_for_url(re.compile(r".*/portal/requests/\d+$"))
        for question_id in BEFORE_RELOAD:
            answer(page, question_id, ANSWERS[question_id])
        page.reload()
        for question_id in BEFORE_RELOAD:
            assert_answered(page, question_id, ANSWERS[question_id])
        assert page.inner_text("#progress .progress-text").startswith("4 of ")
        shots.take(page, "vendor-answers-after-reload")

        for question_id in list(ANSWERS)[len(BEFORE_RELOAD) :]:
            answer(page, question_id, ANSWERS[question_id])
        page.set_input_files(
            "#f-vc-storage",
            files=[{"name": EVIDENCE, "mimeType": "application/pdf", "buffer": evidence_pdf()}],
        )
        page.wait_for_selector("#q-vc-storage-status.save-status-ok")
        assert page.inner_text("#files-vc-storage").startswith(EVIDENCE)
        shots.take(page, "vendor-all-answered")
        page.get_by_role("button", name="Submit the questionnaire").click()
        flashed(page, "Submitted: thank you.")
        assert page.locator("#missing").count() == 0
        shots.take(page, "vendor-submitted")

        # ---- the risk officer: review, a finding, the decision, the PDF ------------------------
        page = new_page(browser.new_context(viewport=VIEWPORT), script_errors)
        log_in(page, base, officer.email, officer.password, pyotp.TOTP(officer.totp_secret).now)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Review").click()
        page.locator("tr", has_text=VENDOR).get_by_role("link", name=QUESTIONNAIRE).click()
        page.wait_for_url(re.compile(r".*/review/\d+$"))
        assert URGENT_CONTACT in page.inner_text("#q-vc-urgent-contact")
        assert page.get_by_role("link", name=EVIDENCE).count() == 1
        shots.take(page, "officer-review")
        page.get_by_role("button", name="Accept", exact=True).click()
        flashed(page, re.compile(r"Request \d+ accepted\."))

        # The worker's portfolio job after the vendor's inventory changed (pages never compute
        # the aggregates): the vendor's inherent tier, then its rating.
        worker = threading.Thread(target=update_portfolio, args=(app,))
        worker.start()
        worker.join(timeout=60)
        open_risk_tab(page)
        page.get_by_role("link", name="Open a finding…").click()
        page.fill("#title", FINDING)
        page.select_option("#severity", "medium")
        page.fill("#description", "HAR files sent to support are cleaned by hand, not on upload.")
        page.fill("#remediation", "Strip cookies and tokens automatically when a file arrives.")
        page.fill("#owner", CONTACT)
        page.get_by_role("button", name="Open the finding").click()
        page.wait_for_url(re.compile(r".*/findings/\d+$"))
        flashed(page, "Finding opened.")
        assert FINDING in page.locator("h1").inner_text()
        shots.take(page, "officer-finding")

        open_risk_tab(page)
        page.select_option("#decision", "approved")
        page.fill("#rationale", "Credentials are vaulted and revocable within the hour.")
        page.get_by_role("button", name="Record the decision").click()
        flashed(page, "Decision recorded: approved.")
        assert "approved" in page.inner_text("#decisions table")
        shots.take(page, "officer-decision")

        with page.expect_download() as download:
            page.click("a[href$='/assessment.pdf']")
        pdf = download.value
        assert pdf.failure() is None
        pdf.save_as(shots.folder / pdf.suggested_filename)  # kept with the screenshots
        with open(pdf.path(), "rb") as file:
            reader = PdfReader(file)
            words = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
        for expected in (VENDOR, FINDING, URGENT_CONTACT):
            assert expected in words, f"{expected!r} not in the PDF: {words[:2000]}"

    assert not script_errors, script_errors

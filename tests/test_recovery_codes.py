"""Recovery codes (issue 15): stored as keyed, salted SHA-256 digests, so enrolling is quick;
codes stored as argon2id before still work; the page that shows them once offers copy,
download as text and print, and nothing serves them again afterwards."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pyotp
from browser import enter_password, launched, new_page, serving
from conftest import PASSWORD, login_as, login_password_only, totp_code

from vendor_risk.db import db
from vendor_risk.models import Role, User
from vendor_risk.services.accounts import mfa, passwords

CODE = re.compile(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>")


def enrolled_page(client, user) -> str:
    """The page a first login ends on: the recovery codes, shown once."""
    login_password_only(client, user)
    page = client.get("/auth/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert done.headers["Cache-Control"].startswith("no-store")
    return done.get_data(as_text=True)


def test_enrolment_stores_keyed_digests_and_the_codes_log_in(app, make_user):
    user = make_user(Role.procurement, enrolled=False)
    client = app.test_client()
    codes = CODE.findall(enrolled_page(client, user))
    assert len(codes) == 10
    with app.app_context():
        stored = db.session.get(User, user.id).recovery_code_hashes
    assert len(stored) == 10 and all(h.startswith("hmac-sha256$") for h in stored)
    assert not any(code.replace("-", "") in h for code in codes for h in stored)

    other = app.test_client()
    login_password_only(other, user)
    response = other.post("/auth/recovery", data={"code": codes[7]})
    assert response.headers["Location"] == "/procurement/"


def test_codes_stored_as_argon2id_before_still_log_in_once(app, make_user):
    user = make_user(Role.risk_officer)
    old = mfa.new_recovery_codes()
    with app.app_context():
        hasher = passwords.hasher()
        row = db.session.get(User, user.id)
        row.recovery_code_hashes = [hasher.hash(mfa.normalise_recovery_code(c)) for c in old]
        db.session.commit()
    client = app.test_client()
    login_password_only(client, user)
    assert client.post("/auth/recovery", data={"code": old[4]}).headers["Location"] == "/risk/"
    client.post("/auth/logout")
    login_password_only(client, user)
    assert client.post("/auth/recovery", data={"code": old[4]}).status_code == 401
    with app.app_context():
        assert len(db.session.get(User, user.id).recovery_code_hashes) == 9


def test_the_page_offers_copy_download_and_print_without_inline_script(app, make_user):
    user = make_user(Role.procurement, enrolled=False)
    page = enrolled_page(app.test_client(), user)
    codes = CODE.findall(page)
    link = re.search(r'download="([^"]+)"\s+href="data:text/plain;charset=utf-8,([^"]+)"', page)
    assert link and link.group(1).endswith(".txt")
    text = unquote(link.group(2))
    assert all(code in text.splitlines() for code in codes)
    assert user.email in text
    assert 'id="recovery-copy"' in page and 'id="recovery-print"' in page
    assert "js/recovery-codes.js" in page
    assert "<script>" not in page and "onclick" not in page


def test_renewed_codes_offer_the_download_too_and_nothing_serves_them_later(app, make_user):
    user = make_user(Role.risk_officer)
    client = app.test_client()
    login_as(client, user)
    response = client.post("/account/recovery-codes", data={"code": totp_code(app, user)})
    page = response.get_data(as_text=True)
    codes = CODE.findall(page)
    assert len(codes) == 10 and "Download as text" in page
    # No page of the account shows them again.
    later = client.get("/account/").get_data(as_text=True)
    assert "10</strong> unused recovery codes" in later
    assert not any(code in later for code in codes)


def test_in_a_browser_the_codes_are_copied_downloaded_as_text_and_printable(
    app, make_user, chromium
):
    from playwright.sync_api import expect

    user = make_user(Role.procurement, enrolled=False)
    errors: list[str] = []
    with serving(app) as base, launched(chromium) as browser:
        context = browser.new_context(accept_downloads=True)
        page = new_page(context, errors)
        enter_password(page, base, user.email, PASSWORD)
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.click("main button[type=submit]")
        page.wait_for_selector("ol.recovery-codes")
        codes = page.locator("ol.recovery-codes code").all_inner_texts()
        assert len(codes) == 10

        expect(page.locator("#recovery-copy")).to_be_visible()
        expect(page.locator("#recovery-print")).to_be_visible()
        expect(page.locator("#recovery-download")).to_be_visible()
        page.click("#recovery-copy")
        expect(page.locator("#recovery-copied")).to_contain_text("copied")

        with page.expect_download() as info:
            page.click("#recovery-download")
        download = info.value
        assert download.suggested_filename.endswith(".txt")
        text = Path(download.path()).read_text(encoding="utf-8")
        assert all(code in text.splitlines() for code in codes)
    assert not errors, errors

"""Take the README's screenshots of real pages: the app on a new SQLite database with the demo
data, a real browser (Debian's chromium driven by Playwright), a real two-step login.

    .venv/bin/python docs/screenshots/take.py            # writes docs/screenshots/*.png

Needs the dev extras (playwright) and chromium (`apt-get install chromium`).
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

import pyotp
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from vendor_risk import create_app
from vendor_risk.audit import Actor
from vendor_risk.cli import alembic_config
from vendor_risk.db import db, utcnow
from vendor_risk.demo import IDENTITY_PROVIDER
from vendor_risk.models import Role, User
from vendor_risk.services import accounts, blast_radius

HERE = Path(__file__).resolve().parent
EMAIL, PASSWORD = "screens@example.com", "screenshots only, never a real password"
# (file name, path or a function of the app giving it, what the page shows)
PAGES = [
    ("portfolio.png", "/inventory/portfolio"),
    ("vendors.png", "/inventory/vendors?sort=blast_radius&direction=desc"),
    ("blast-radius.png", "vendor:/blast-radius"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(workdir: Path):
    from alembic import command

    url = f"sqlite:///{workdir / 'screens.sqlite'}"
    app = create_app({"SECRET_KEY": "s" * 40, "DATABASE_URL": url}, instance_path=str(workdir))
    with app.app_context():
        command.upgrade(alembic_config(url), "head")
        result = app.test_cli_runner().invoke(args=["demo"])
        if result.exit_code:
            sys.exit(result.output)
        user = accounts.create_user(
            db.session,
            email=EMAIL,
            name="Rita Risk",
            password=PASSWORD,
            role=Role.risk_officer,
            actor=Actor.system("screenshots"),
        )
        secret = pyotp.random_base32()
        user.totp_secret, user.totp_confirmed_at = secret, utcnow()
        vendor_id = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
        db.session.commit()
        assert db.session.get(User, user.id).mfa_enrolled
    return app, secret, vendor_id


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    workdir = Path(tempfile.mkdtemp())
    app, secret, vendor_id = prepare(workdir)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/auth/login")
            page.fill("input[name=email]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.fill("input[name=code]", pyotp.TOTP(secret).now())
            page.click("button[type=submit]")
            for name, path in PAGES:
                if path.startswith("vendor:"):
                    path = f"/inventory/vendors/{vendor_id}{path.removeprefix('vendor:')}"
                page.goto(base + path)
                page.screenshot(path=str(HERE / name), full_page=True)
                print(f"{HERE / name}: {page.title()}")
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

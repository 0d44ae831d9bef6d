"""The README's run command as a user runs it, as real processes: start quickstart, log in
(replacing the printed password), stop it with Ctrl+C, start it again on the same database,
log in with the second factor, and write from the command line while it serves."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html import unescape
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from conftest import BACKEND, free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@example.com"
FLASK = (sys.executable, "-m", "flask", "--app", "app")
OWN = "the first admin's own passphrase"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects, so each step is seen."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("Location", ""), error.read().decode()

    def post_form(self, path: str, data: dict) -> tuple[int, str, str]:
        status, _, page = self.request(path)
        assert status == 200, (path, status, page[:500])
        token = CSRF.search(page)
        assert token, f"no CSRF token on {path}"
        return self.request(path, {"csrf_token": unescape(token.group(1)), **data})


class Quickstart:
    """`flask --app app quickstart` in a process of its own, stopped with Ctrl+C."""

    def __init__(self, tmp_path: Path, database_url: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "VR_DATABASE_URL": database_url,
            "VR_SECRET_KEY": "restart test secret key, long enough to be accepted",
            "VR_EVIDENCE_DIR": str(tmp_path / "evidence"),
            # The queue of background jobs: a file of this test's own (not the project's
            # instance folder).
            "VR_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}",
            # Cheap argon2 parameters: the test hashes a few passwords.
            "VR_ARGON2_TIME_COST": "1",
            "VR_ARGON2_MEMORY_COST": "19456",
            "VR_ARGON2_PARALLELISM": "1",
        }
        self.log = tmp_path / f"quickstart-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.opener_for_probe = urllib.request.build_opener()

    def start(self, *options: str) -> str:
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*FLASK, "quickstart", *options, "--port", str(self.port)],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with self.opener_for_probe.open(self.base + "/auth/login", timeout=5) as response:
                    if response.status == 200:
                        return self.log.read_text()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise AssertionError("quickstart did not serve in time:\n" + self.log.read_text())

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)  # Ctrl+C
        self.process.wait(timeout=30)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*FLASK, *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture
def quickstart(tmp_path, database_url):
    server = Quickstart(tmp_path, database_url)
    yield server
    if server.process and server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def _totp(secret: str, after_step: int | None = None) -> tuple[str, int]:
    """A code for the current step, or for the next one when the current step was used."""
    step = int(time.time() // 30)
    if after_step is not None and step <= after_step:
        step = after_step + 1
    return pyotp.TOTP(secret).at(step * 30), step


def _assert_no_write_lock(database_url: str) -> None:
    """Nobody holds SQLite's write lock: a writer gets it at once."""
    if BACKEND != "sqlite":
        return
    probe = sqlite3.connect(sa.make_url(database_url).database, timeout=0.5)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
    finally:
        probe.close()


@pytest.mark.parametrize("options", [["--no-demo"], []], ids=["empty", "demo"])
def test_restart_leaves_everyone_able_to_log_in_and_the_cli_able_to_write(
    quickstart, database_url, tmp_path, options
):
    first = quickstart.start(*options)
    password = re.search(rf"{re.escape(ADMIN)}\s+(\S+)", first).group(1)
    _assert_no_write_lock(database_url)

    # First login: the password, then the enrolment of an authenticator.
    browser = Browser(quickstart.base)
    status, location, _ = browser.post_form("/auth/login", {"email": ADMIN, "password": password})
    assert (status, location) == (302, "/auth/enrol")
    status, _, page = browser.request("/auth/enrol")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    code, used_step = _totp(secret)
    status, _, page = browser.post_form("/auth/enrol", {"code": code})
    assert status == 200 and "recovery codes" in page.lower()
    # The printed password is replaced before anything else; then the first steps show.
    assert browser.request("/admin/")[:2] == (302, "/auth/password")
    status, location, _ = browser.post_form(
        "/auth/password",
        {"current_password": password, "new_password": OWN, "confirm_password": OWN},
    )
    assert (status, location) == (302, "/admin/")
    status, _, page = browser.request("/admin/")
    assert status == 200
    if "--no-demo" in options:  # an empty instance: nothing of the first steps is done
        assert "First steps: 0 of 4 done" in page and "Give myself" in page
    password = OWN
    quickstart.stop()

    # The same command again, on the same database.
    second = quickstart.start(*options)
    assert "Users exist already" in second
    _assert_no_write_lock(database_url)

    browser = Browser(quickstart.base)
    started = time.monotonic()
    status, location, _ = browser.post_form("/auth/login", {"email": ADMIN, "password": password})
    assert (status, location) == (302, "/auth/mfa")
    code, _ = _totp(secret, after_step=used_step)
    status, location, _ = browser.post_form("/auth/mfa", {"code": code})
    assert status == 302, location
    status, _, page = browser.request(location)
    assert status == 200 and "Log out" in page
    # Without waiting on a lock held by the server (the busy timeout is 5 s).
    assert time.monotonic() - started < 4.5

    # The command line writes while the app serves: an audited export, and a new user.
    export = quickstart.cli("inventory", "export", "-o", str(tmp_path / "inventory.yaml"))
    assert export.returncode == 0, export.stderr
    assert "Exported the inventory" in export.stdout
    created = quickstart.cli(
        "create-user",
        "--email=second-admin@example.com",
        "--name=Second admin",
        "--role=admin",
        "--password-stdin",
        stdin="another long enough passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    # And the app still writes on its own right after (a logout is audited).
    token = unescape(CSRF.search(page).group(1))
    status, location, _ = browser.request("/auth/logout", {"csrf_token": token})
    assert (status, location) == (302, "/auth/login")
    quickstart.stop()


def test_quickstart_runs_the_background_worker_and_stops_it_with_the_server(
    quickstart, database_url, make_app
):
    """An email queued while quickstart serves is handled at once by the background worker it
    runs in the same process (without SMTP in development: logged and kept), on the embedded
    SQLite queue; Ctrl+C stops both, and a second start runs the worker again."""
    output = quickstart.start("--no-demo")
    assert "Background jobs run in this process (SQLite " in output
    from vendor_risk.db import db
    from vendor_risk.models import OutboxMessage
    from vendor_risk.services import mail

    app = make_app(DATABASE_URL=database_url, QUEUE_URL=quickstart.env["VR_QUEUE_URL"])

    def kept_within_seconds(subject: str) -> None:
        with app.app_context():
            message_id = mail.send_mail(
                db.session, to="jane@keystone.example", subject=subject, body="Hello\n"
            ).id
            db.session.commit()
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline and status != "kept":
            time.sleep(0.2)
            with app.app_context():
                status = db.session.get(OutboxMessage, message_id).status
        assert status == "kept", quickstart.log.read_text()
        assert f"Subject: {subject}" in quickstart.log.read_text()

    kept_within_seconds("Worker check")
    quickstart.stop()
    assert quickstart.process.returncode is not None
    assert "Traceback" not in quickstart.log.read_text()

    quickstart.start("--no-demo")  # the README's command a second time
    kept_within_seconds("Second start")
    quickstart.stop()

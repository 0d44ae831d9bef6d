"""What the browser tests share: the app served on loopback, Debian's chromium driven by
Playwright, the real two-step login, and screenshots kept for CI.

Screenshots go to ``VR_TEST_ARTIFACTS`` (default: test-artifacts/ at the repository's root,
ignored by git), one folder per test module, so that CI can keep them.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import conftest
import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("VR_TEST_ARTIFACTS") or ROOT / "test-artifacts")
TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 900}


def find_chromium() -> str:
    """conftest's ``chromium`` fixture for module-scoped fixtures (a fixture of one scope cannot
    use one of a narrower scope): the same skip, or failure when VR_REQUIRE_BROWSER is set."""
    pytest.importorskip("playwright.sync_api", reason="needs playwright (dev extras)")
    path = shutil.which("chromium")
    if path is None:
        message = "needs chromium (apt-get install chromium)"
        if os.environ.get("VR_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def closing_every_response(app):
    """The WSGI app with each response read whole and closed before the server writes it.

    Werkzeug's development server closes a response only after draining the socket, which
    raises when chromium drops a request it no longer needs (a favicon answered 304, for
    instance): the static file's handle was then left to the garbage collector, and pytest
    reports that as an error in whichever test runs next."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on a free loopback port, in a thread; yields its base URL. Links in emails
    point there unless the app has its own VR_BASE_URL, as quickstart's do."""
    server = make_server("127.0.0.1", 0, closing_every_response(app), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = app.config["BASE_URL"] or base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextmanager
def launched(chromium: str) -> Iterator[object]:
    """A headless chromium (the path from the ``chromium`` fixture); yields the Browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            yield browser
        finally:
            browser.close()


def new_page(context, script_errors: list[str]) -> object:
    """A page of the context whose script errors are appended to ``script_errors`` (a test
    asserts it stays empty: the pages' own script never fails)."""
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    return page


def enter_password(page, base: str, email: str, password: str) -> None:
    """The first step of the login; the page is then at the code or the enrolment step."""
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/auth/(mfa|enrol)$"))


def log_in(page, base: str, email: str, password: str, code: Callable[[], str]) -> None:
    """The real two-step login: the password form, then the code of the authenticator."""
    enter_password(page, base, email, password)
    assert page.url == f"{base}/auth/mfa", page.url
    page.fill("input[name=code]", code())
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(admin|procurement|risk|portal)/$"))


class Screenshots:
    """Full-page screenshots numbered in the order taken, in the module's own folder (emptied
    first, so that a folder holds one run)."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.taken = 0

    def take(self, page, name: str) -> Path:
        self.taken += 1
        path = self.folder / f"{self.taken:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def module_database_url(migrated_template, tmp_path_factory):
    """A migrated database shared by one module's tests (the browser and the live server are
    started once per module): a copy of the template on SQLite; the template itself, emptied
    afterwards, on PostgreSQL (as conftest's ``database_url`` does per test)."""
    if conftest.BACKEND == "sqlite":
        source = Path(sa.make_url(migrated_template).database)
        target = tmp_path_factory.mktemp("browser") / "browser.sqlite"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
    else:
        yield migrated_template
        conftest._truncate_postgres(migrated_template)

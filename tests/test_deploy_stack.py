"""The production stack of docs/deploy.md, started from its own files on one machine: the
settings file, the migrations unit, two web units (gunicorn, as two app machines would run)
and the worker unit, on PostgreSQL and Redis, as real processes.

What the page promises is checked as a user would notice it: both web processes answer
/readyz; a session opened on one is honoured by the other; failed sign-ins count against one
limit whichever process they reach; an email asked for on a web process is sent by the worker;
every process stops cleanly on SIGTERM. The unit files themselves pass `systemd-analyze
verify`.
"""

from __future__ import annotations

import configparser
import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from html import unescape
from pathlib import Path

import pyotp
import pytest
from conftest import (
    BACKEND,
    POSTGRES_URL,
    create_postgres_database,
    drop_postgres_database,
    free_port,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT_ROOT / "docs" / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED_AT = "/opt/vendor-risk"
HOST = "risk.example.org"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ADMIN = "stack-admin@example.org"
PASSWORD = "a long passphrase for the stack test"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def command_of(name: str, instance: str = "") -> list[str]:
    """A unit's ExecStart as this checkout runs it: the install path of docs/deploy.md replaced
    by this checkout and its virtualenv, %i by the instance."""
    line = unit(name)["Service"]["ExecStart"]
    line = line.replace(f"{INSTALLED_AT}/.venv/bin/", f"{Path(sys.executable).parent}/")
    line = line.replace(INSTALLED_AT, str(PROJECT_ROOT)).replace("%i", instance)
    return shlex.split(line)


def settings_file() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "vendor-risk.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


class Client:
    """HTTP through the reverse proxy's eyes: the public host name, HTTPS as forwarded by the
    proxy, cookies kept by hand (the production cookie is Secure; the proxy would carry it)."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": HOST,
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}"
            headers["Referer"] = f"https://{HOST}{path}"
        try:
            connection.request("POST" if data is not None else "GET", path, body, headers)
            response = connection.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
            location = response.headers.get("Location", "")
            return response.status, location, response.read().decode()
        finally:
            connection.close()

    def post_form(self, path: str, data: dict) -> tuple[int, str, str]:
        status, _, page = self.request(path)
        assert status == 200, (path, status, page[:500])
        token = CSRF.search(page)
        assert token, f"no CSRF token on {path}"
        return self.request(path, {"csrf_token": unescape(token.group(1)), **data})


class Stack:
    """The processes of one machine, started from the units, stopped with SIGTERM."""

    def __init__(self, tmp_path: Path, environment: dict[str, str]):
        self.tmp_path = tmp_path
        self.env = environment
        self.processes: dict[str, subprocess.Popen] = {}

    def run(self, name: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            command_of(name),
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self, label: str, name: str, instance: str = "") -> None:
        log = (self.tmp_path / f"{label}.log").open("w")
        self.processes[label] = subprocess.Popen(
            command_of(name, instance),
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def log(self, label: str) -> str:
        return (self.tmp_path / f"{label}.log").read_text()

    def wait_ready(self, label: str, port: int) -> None:
        deadline = time.monotonic() + 90
        last = None
        while time.monotonic() < deadline:
            assert self.processes[label].poll() is None, self.log(label)
            try:
                last = Client(port).request("/readyz")
                if last[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{label} not ready: {last}\n{self.log(label)}")

    def stop(self) -> dict[str, int]:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for label, process in self.processes.items():
            try:
                codes[label] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[label] = process.wait()
        return codes


@pytest.fixture
def database():
    """A new, empty PostgreSQL database of this test's own."""
    if not POSTGRES_URL or BACKEND != "postgresql":
        pytest.skip(
            "the stack runs on PostgreSQL: with VR_TEST_BACKEND=postgresql (CI's second run)"
        )
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def stack(tmp_path, database, smtp_server):
    environment = settings_file() | {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VR_SECRET_KEY": "the stack test's secret key, shared by every process " + "x" * 16,
        "VR_DATABASE_URL": database,
        "VR_MIGRATION_DATABASE_URL": database,
        "VR_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        # A queue of this test's own on the shared Redis: no other test's worker takes its jobs.
        "VR_QUEUE_URL": "redis://127.0.0.1:6379/0",
        "VR_QUEUE_NAME": f"vr-stack-{uuid.uuid4().hex[:12]}",
        "VR_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "VR_SMTP_HOST": smtp_server.host,
        "VR_SMTP_PORT": str(smtp_server.port),
        "VR_SMTP_SECURITY": "none",
        "VR_SMTP_USERNAME": "",
        "VR_SMTP_PASSWORD": "",
        # Three wrong passwords a minute per account, whichever process they reach.
        "VR_RATELIMIT_LOGIN_PER_ACCOUNT": "3 per minute",
        # The cheapest argon2id production accepts: the test hashes a few passwords.
        "VR_ARGON2_TIME_COST": "2",
        "VR_ARGON2_MEMORY_COST": "19456",
        "VR_ARGON2_PARALLELISM": "1",
    }
    (tmp_path / "evidence").mkdir()
    running = Stack(tmp_path, environment)
    yield running
    running.stop()


@pytest.mark.postgresql
def test_the_stack_of_docs_deploy_serves_from_two_machines_with_one_worker(stack, smtp_server):
    migrated = stack.run("vendor-risk-migrate.service")
    assert migrated.returncode == 0, migrated.stderr
    created = stack.cli(
        "create-user",
        f"--email={ADMIN}",
        "--name=Stack admin",
        "--role=admin",
        "--own-password",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr

    first, second = free_port(), free_port()
    stack.start("web-1", "vendor-risk-web@.service", str(first))
    stack.start("web-2", "vendor-risk-web@.service", str(second))
    stack.start("worker", "vendor-risk-worker.service")
    stack.wait_ready("web-1", first)
    stack.wait_ready("web-2", second)
    assert Client(first).request("/healthz")[0] == 200

    # Sign in on the first machine: password, then the authenticator's enrolment.
    browser = Client(first)
    status, location, _ = browser.post_form("/auth/login", {"email": ADMIN, "password": PASSWORD})
    assert (status, location) == (302, "/auth/enrol")
    _, _, page = browser.request("/auth/enrol")
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    status, _, page = browser.post_form("/auth/enrol", {"code": pyotp.TOTP(secret).now()})
    assert status == 200 and "recovery codes" in page.lower()
    status, _, page = browser.request("/admin/")
    assert status == 200 and "Log out" in page

    # The same session on the second machine: no sticky sessions needed.
    elsewhere = Client(second, browser.cookies)
    status, _, page = elsewhere.request("/admin/")
    assert status == 200 and "Log out" in page

    # An email asked for on the second machine is sent by the worker: the admin changes their
    # address, and the confirmation link reaches the new one.
    _, _, users = elsewhere.request("/admin/users")
    user_id = re.search(r'href="/admin/users/(\d+)"', users).group(1)
    new_address = "stack-admin-new@example.org"
    status, location, page = elsewhere.post_form(
        f"/admin/users/{user_id}/edit",
        {"name": "Stack admin", "email": new_address, "roles": "admin", "role": "admin"},
    )
    assert status == 302, page[:2000]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        new_address in str(m["To"]) for m in smtp_server.messages
    ):
        time.sleep(0.3)
    assert any(new_address in str(m["To"]) for m in smtp_server.messages), stack.log("worker")

    # Wrong passwords count against one limit, wherever the proxy sends them.
    someone = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    for port in (first, first, second):
        status, _, _ = Client(port).post_form(
            "/auth/login", {"email": someone, "password": "wrong passphrase, long enough"}
        )
        assert status == 401  # refused, not yet limited
    status, _, page = Client(second).post_form(
        "/auth/login", {"email": someone, "password": "wrong passphrase, long enough"}
    )
    assert status == 429, page[:500]

    codes = stack.stop()
    assert codes == {"web-1": 0, "web-2": 0, "worker": 0}, {
        label: stack.log(label)[-2000:] for label in codes
    }


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("needs systemd-analyze (Debian's systemd package)")
    env_file = tmp_path / "vendor-risk.env"
    env_file.write_text((DEPLOY / "vendor-risk.env.example").read_text())
    names = sorted(path.name for path in UNITS.iterdir())
    assert names == [
        "vendor-risk-migrate.service",
        "vendor-risk-web@.service",
        "vendor-risk-worker.service",
        "vendor-risk.target",
    ]
    for name in names:
        text = (UNITS / name).read_text()
        text = text.replace(f"{INSTALLED_AT}/.venv/bin/", f"{Path(sys.executable).parent}/")
        text = text.replace(INSTALLED_AT, str(PROJECT_ROOT))
        text = text.replace("/etc/vendor-risk/vendor-risk.env", str(env_file))
        (tmp_path / name).write_text(text)
    # A template is verified through an instance of it.
    shutil.copy(tmp_path / "vendor-risk-web@.service", tmp_path / "vendor-risk-web@8000.service")
    checked = [n for n in names if n != "vendor-risk-web@.service"] + [
        "vendor-risk-web@8000.service"
    ]
    result = subprocess.run(
        [analyze, "verify", *checked], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if tmp_path.name in line or "Unknown" in line or "not executable" in line
    ]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_the_settings_file_names_only_settings_the_app_knows(monkeypatch):
    """A typo in the example (VR_RATELIMT_...) would be silently ignored by the app; each VR_
    name in it is a declared setting."""
    from vendor_risk.config import Settings

    names = {key for key in settings_file() if key.startswith("VR_")}
    unknown = {name for name in names if name.removeprefix("VR_") not in Settings.model_fields}
    assert not unknown

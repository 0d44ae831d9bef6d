"""Operations, seen from outside: the probes a load balancer asks, and the log lines the app
writes (a request id on each, one access line per request, no token ever)."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, login_as

from vendor_risk import logs
from vendor_risk.models import Role

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# ---- /healthz and /readyz --------------------------------------------------------------------


def test_healthz_answers_without_session_or_database(make_app, tmp_path):
    # A database that cannot even be opened: the process is still up.
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_200_when_everything_answers(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["evidence_storage"]["ok"] is True
    assert "Set-Cookie" not in response.headers


def test_readyz_names_the_database_when_it_is_down_and_never_its_address(make_app, tmp_path):
    url = "postgresql+psycopg://vr_app:hunter2-secret@127.0.0.1:9/vendor_risk?connect_timeout=2"
    app = make_app(DATABASE_URL=url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["database"]
    assert body["checks"]["evidence_storage"]["ok"] is True
    text = response.get_data(as_text=True)
    for secret in ("hunter2", "vr_app", "127.0.0.1", ":9", "postgresql"):
        assert secret not in text


def test_readyz_names_an_evidence_folder_that_cannot_be_written(make_app, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    app = make_app(EVIDENCE_DIR=str(blocked))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["evidence_storage"]


def test_readyz_runs_the_checks_other_parts_register(app, client):
    def queue():
        return "queue", False, "no worker has answered for 90 s"

    def broken():
        raise RuntimeError("redis://:s3cret@host/0 refused")

    app.extensions["vr_readiness_checks"] = [queue, broken]
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["queue", "broken"]
    assert body["checks"]["queue"]["detail"] == "no worker has answered for 90 s"
    assert "s3cret" not in response.get_data(as_text=True)
    app.extensions["vr_readiness_checks"] = [lambda: ("queue", True, "ok")]
    assert client.get("/readyz").status_code == 200


def test_probes_are_never_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(150)} == {200}


def test_probes_answer_a_logged_in_user_too(app, client, make_user):
    login_as(client, make_user(Role.risk_officer))
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


# ---- request ids -----------------------------------------------------------------------------


def test_a_safe_request_id_is_kept_and_anything_else_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-42.a_b"}).headers[
        "X-Request-ID"
    ] == ("lb-42.a_b")
    for hostile in ("a b", "x" * 65, "line\\nforged", "<script>", ""):
        got = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert got != hostile
        assert 1 <= len(got) <= 64 and got.isalnum()


def test_every_response_has_a_request_id_errors_included(client):
    ids = {client.get(path).headers["X-Request-ID"] for path in ("/healthz", "/nowhere", "/")}
    assert len(ids) == 3


# ---- the log lines of a real server ------------------------------------------------------------


def _get(url: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback http
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return 0  # not listening yet


def test_a_served_app_writes_json_lines_with_request_ids_and_no_token(database_url, tmp_path):
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "VR_DATABASE_URL": database_url,
        "VR_SECRET_KEY": "logging test secret key, long enough to be accepted",
        "VR_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "VR_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    invite_token = secrets.token_urlsafe(32)
    query_secret = "q" + secrets.token_hex(12)
    signed = "eyJ1c2VyIjo0Mn0.ZzYxMg.abcdefghijklmnopqrstuvwxyz012345"
    try:
        deadline = time.monotonic() + 60
        while _get(base + "/healthz") != 200:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        assert _get(f"{base}/invite/{invite_token}", {"X-Request-ID": "probe-invite-1"}) == 404
        assert _get(f"{base}/auth/login?token={query_secret}&next=/risk/") == 200
        assert _get(f"{base}/auth/email/{signed}") in (400, 404, 410)
        assert _get(f"{base}/readyz", {"X-Request-ID": "bad id\twith tab"}) == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    output = log_path.read_text()
    assert invite_token not in output
    assert query_secret not in output
    assert signed not in output and "ZzYxMg" not in output
    records = []
    for line in output.splitlines():
        if not line.strip():
            continue
        if not line.startswith("{"):
            continue  # the development server's banner is printed, not logged
        records.append(json.loads(line))
    access = [r for r in records if r["logger"] == "vendor_risk.access"]
    invite = next(r for r in access if r["path"].startswith("/invite/"))
    assert invite["request_id"] == "probe-invite-1"
    assert invite["path"] == "/invite/[masked]"
    assert invite["status"] == 404
    assert invite["method"] == "GET"
    assert isinstance(invite["duration_ms"], int | float)
    assert "user_id" in invite
    login = next(r for r in access if r["path"] == "/auth/login")
    assert "?" not in login["message"] and "token" not in login["message"]
    assert all(r["request_id"] for r in records)
    # werkzeug's own request line is there too, masked and carrying the same id
    werkzeug = [r for r in records if r["logger"] == "werkzeug" and "/invite/" in r["message"]]
    assert werkzeug and werkzeug[0]["request_id"] == "probe-invite-1"
    assert "/invite/[masked]" in werkzeug[0]["message"]
    assert any("token=[masked]" in r["message"] for r in records if r["logger"] == "werkzeug")


@pytest.fixture
def log_output(app):
    """The app's own handler (vendor_risk.logs.install, as create_app installs it), writing
    to a buffer this test reads."""
    buffer = io.StringIO()
    logs.install(app.config["LOG_FORMAT"], stream=buffer)
    yield buffer
    logs.install(app.config["LOG_FORMAT"])


def test_text_format_by_default_with_the_request_id(app, client, log_output):
    client.get("/healthz")  # DEBUG: not shown
    client.get("/invite/" + "k" * 43, headers={"X-Request-ID": "text-format-1"})
    output = log_output.getvalue()
    assert "/healthz" not in output
    line = next(line for line in output.splitlines() if "vendor_risk.access" in line)
    assert "[text-format-1] vendor_risk.access: GET /invite/[masked] 404" in line
    assert "k" * 43 not in output


@pytest.mark.parametrize(
    "message",
    [
        "redeeming %s",
        "GET /invite/%s HTTP/1.1",
        "link: https://risk.example.org/invite/%s",
        "callback?code=%s&state=x",
    ],
)
def test_the_handler_masks_any_logger_message_and_arguments(app, log_output, message):
    token = secrets.token_urlsafe(32)
    logging.getLogger("some.library").warning(message, token)
    logging.getLogger("vendor_risk.jobs").error("job failed", extra={"link": f"/invite/{token}"})
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        logging.getLogger("vendor_risk").exception("failed")
    output = log_output.getvalue()
    assert token not in output
    assert output.count("[masked]") >= 2
    assert "ValueError: bad token [masked]" in output


def test_json_lines_carry_the_extra_fields_masked(app, log_output):
    logs.install("json", stream=log_output)
    token = secrets.token_urlsafe(32)
    logging.getLogger("vendor_risk.jobs").warning(
        "retrying", extra={"job": "send_invite", "link": f"https://x.example/invite/{token}"}
    )
    entry = json.loads(log_output.getvalue().splitlines()[-1])
    assert entry["level"] == "WARNING" and entry["logger"] == "vendor_risk.jobs"
    assert entry["job"] == "send_invite"
    assert entry["link"] == "https://x.example/invite/[masked]"
    assert token not in log_output.getvalue()

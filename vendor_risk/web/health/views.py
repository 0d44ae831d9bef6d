"""``/healthz`` and ``/readyz``: what a load balancer and an orchestrator ask.

- ``/healthz``: the process is up and answers. No database, no session, nothing that can be
  slow: a restart is the only cure for its failure.
- ``/readyz``: the process can serve: the database answers ``SELECT 1``, the evidence folder
  is writable, and every check another part registered in
  ``app.extensions["vr_readiness_checks"]`` (callables returning ``(name, ok, detail)``; the
  queue registers its own) passes. 503 names the check that failed, in words that never hold
  a URL, a password or a host; the details go to the log.

Public (``access.PUBLIC_ENDPOINTS``), exempt from rate limits, and they never set a cookie.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from ... import logs
from ...db import db, describe_unavailable
from ...extensions import limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
READINESS_CHECKS = "vr_readiness_checks"
Check = Callable[[], tuple[str, bool, str]]


def _probe(payload: dict, status: int = 200):
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return _probe({"status": "ok"})


def database_check() -> tuple[str, bool, str]:
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readiness: database: %s", exc)
        # describe_unavailable without the URL: the words of the cause, never where it is
        return "database", False, describe_unavailable(exc).partition(":")[0]
    return "database", True, "SELECT 1 answered"


def evidence_check() -> tuple[str, bool, str]:
    folder = Path(current_app.config["EVIDENCE_DIR"])
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=".readyz-", dir=folder)
        os.close(descriptor)
        os.unlink(name)
    except OSError as exc:
        log.warning("readiness: evidence storage %s: %s", folder, exc)
        return "evidence_storage", False, "the evidence folder is not writable"
    return "evidence_storage", True, "writable"


def _run(check: Check) -> tuple[str, bool, str]:
    name = getattr(check, "__name__", "check")
    try:
        name, ok, detail = check()
    except Exception:  # a check that fails to run is a failed check, never a 500
        log.exception("readiness check %s raised", name)
        return name, False, "the check raised an error (see the log)"
    return str(name), bool(ok), logs.mask_secrets(str(detail))


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks = [database_check, evidence_check, *current_app.extensions.get(READINESS_CHECKS, [])]
    results = [_run(check) for check in checks]
    ready = all(ok for _, ok, _ in results)
    payload = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: {"ok": ok, "detail": detail} for name, ok, detail in results},
    }
    if not ready:
        payload["failed"] = [name for name, ok, _ in results if not ok]
    return _probe(payload, 200 if ready else 503)

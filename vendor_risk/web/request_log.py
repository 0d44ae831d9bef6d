"""Each request's id and its one access line.

The id comes from the ``X-Request-ID`` a proxy sent, when it has a safe shape, or is made
here; it is in :data:`vendor_risk.logs.request_id` while the request runs (so on every log
line, and on the jobs it enqueues) and echoed in the response's ``X-Request-ID``. The access
line names the method, the path (never the query string), the status, the time taken and the
user, if one is logged in.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from .. import logs

access_log = logging.getLogger("vendor_risk.access")
HEADER = "X-Request-ID"
# Probes call these every few seconds: their lines are DEBUG, so they do not drown the log.
QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz"})


def start() -> None:
    g.request_id = logs.accepted_request_id(request.headers.get(HEADER))
    logs.request_id.set(g.request_id)
    g.request_started = time.perf_counter()


def finish(response):
    rid = g.get("request_id")
    if rid is None:  # a response made before start() ran (none today): nothing to add
        return response
    response.headers[HEADER] = rid
    started = g.get("request_started", time.perf_counter())
    # The user Flask-Login loaded for this request, if it did: never a query just for the log.
    user = g.get("_login_user")
    user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
    access_log.log(
        level,
        "%s %s %s",
        request.method,
        logs.mask_secrets(request.path),
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": user_id,
            "remote_addr": request.remote_addr,
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Registered first, so the id is set before any other hook logs, and the access line is
    written after every other hook changed the response."""
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)  # after_request hooks run in reverse: this one runs last
    # The id is not reset at teardown: werkzeug writes its request line after it, and each
    # request sets its own before anything else runs.

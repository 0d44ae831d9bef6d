"""The web shell: security headers on every response, friendly error pages, template helpers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, abort, current_app, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.routing import IntegerConverter

from ..core.plurals import plural
from ..db import MAX_ROW_ID, db
from ..models import STAFF_ROLES, Role
from ..services import notifications
from . import request_log

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

ERROR_TEXT = {
    400: (
        "Bad request",
        "The request could not be understood (it may contain a character that is not allowed). "
        "Go back and try again.",
    ),
    403: ("Access denied", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing here. Check the address, or go back to your home page."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Too many attempts", "Too many requests in a short time. Wait a minute and try again."),
    500: (
        "Something went wrong",
        "The error was logged. Nothing you sent was half-saved; try again.",
    ),
    503: (
        "Busy, try again",
        "The database is busy or out of reach. Nothing you sent was saved: try again in a moment.",
    ),
}

UNTRUSTED_HOST = "Bad request: this site is not served at the address you used.\n"

# Navigation per role: (endpoint, label). Rendering it is the template's job; who sees what is
# decided here, next to the areas' own guards.
INVENTORY_NAVIGATION = [  # procurement and risk officers share the inventory
    ("inventory.portfolio_view", "Portfolio"),
    ("inventory.vendors", "Vendors"),
    ("inventory.credentials", "Credentials"),
    ("inventory.systems", "Systems"),
    ("inventory.data_categories", "Data categories"),
    ("inventory.zones", "Zones"),
    ("inventory.fourth_parties", "Fourth parties"),
]
INCIDENTS = ("incidents.index", "Incidents")  # procurement and risk officers too
LIBRARY = ("library.index", "Questionnaires")  # procurement and risk officers
REQUESTS = ("requests.index", "Requests")  # questionnaires sent: procurement and risk officers
FINDINGS = ("findings.index", "Findings")  # procurement reads them, risk officers write
NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.admin: [
        ("admin.home", "Home"),
        ("admin.users", "Users"),
        ("admin.audit", "Audit trail"),
        ("admin.outbox", "Outbox"),
    ],
    Role.procurement: [
        ("procurement.home", "Home"),
        REQUESTS,
        FINDINGS,
        LIBRARY,
        *INVENTORY_NAVIGATION,
        INCIDENTS,
    ],
    Role.risk_officer: [
        ("risk.home", "Home"),
        ("review.index", "Review"),
        FINDINGS,
        REQUESTS,
        LIBRARY,
        *INVENTORY_NAVIGATION,
        INCIDENTS,
    ],
    Role.vendor_contact: [("portal.home", "Our requests")],
}
# A second role's home page in the menu of a user holding several roles ("Home" is the
# primary role's).
OTHER_HOME_LABEL = {
    Role.admin: "Administration",
    Role.procurement: "Procurement home",
    Role.risk_officer: "Risk home",
}


def navigation_for(primary: Role, roles: frozenset[Role]) -> list[tuple[str, str]]:
    """The menu of a user holding ``roles``: the primary role's menu, then what each other role
    adds (in the usual order of roles), each page once."""
    others = [r for r in (*STAFF_ROLES, Role.vendor_contact) if r in roles and r is not primary]
    items: dict[str, str] = dict(NAVIGATION.get(primary, []))
    for role in others:
        for endpoint, label in NAVIGATION.get(role, []):
            if endpoint == NAVIGATION[role][0][0]:
                label = OTHER_HOME_LABEL.get(role, label)
            items.setdefault(endpoint, label)
    return list(items.items())


def refuse_nul_bytes():
    """No person types a NUL character, and PostgreSQL text cannot hold one: refuse the whole
    request before any of it is used, rather than failing deep in a query."""
    for values in (request.args, request.form):
        for _key, value in values.items(multi=True):
            if "\x00" in value or "\x00" in _key:
                abort(400)
    return None


def set_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


def _error_page(status: int, message: str | None = None):
    title, text = ERROR_TEXT.get(status, (f"Error {status}", ""))
    return render_template(
        "error.html", status=status, title=title, message=message or text
    ), status


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    response = _error_page(error.code)
    if error.code == 429 or error.code == 405:
        body, status = response
        original = error.get_response()
        headers = {k: v for k, v in original.headers.items() if k in {"Retry-After", "Allow"}}
        return body, status, headers
    return response


def handle_csrf_error(error: CSRFError):
    return _error_page(
        400,
        "This form has expired or was not sent by this site (missing security token). "
        "Reload the page and submit it again; what you typed may need re-entering.",
    )


def _page_without_database(status: int):
    """An error page for a request whose database work failed: the transaction is rolled
    back (nothing of the request is kept) and the page is drawn without the context
    processors, which would load the signed-in user from the database again."""
    db.session.rollback()
    title, text = ERROR_TEXT[status]
    page = current_app.jinja_env.get_template("error.html").render(
        status=status, title=title, message=text, request=request, signed_in=None, navigation=[]
    )
    return page, status


def handle_untrusted_host(error: SecurityError):
    """A Host (or trusted X-Forwarded-Host) outside VR_TRUSTED_HOSTS, refused by Flask before
    routing: 400 in plain text, since the page template builds links and no link can be built
    for a host this app does not serve."""
    current_app.logger.warning("refused a request for an untrusted host: %s", error.description)
    return UNTRUSTED_HOST, 400, {"Content-Type": "text/plain; charset=utf-8"}


def handle_server_error(error: Exception):
    return _page_without_database(500)


def handle_database_unavailable(error: sa.exc.OperationalError):
    """The database is locked past the busy timeout, or unreachable: try again later."""
    current_app.logger.warning("database unavailable: %s", error.orig)
    page, status = _page_without_database(503)
    return page, status, {"Retry-After": "5"}


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number no row can have matches no route (404) instead of
    reaching a query that PostgreSQL refuses (a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the converter applies to the rules as they are
    added."""
    app.url_map.converters["int"] = RowIdConverter
    request_log.init_app(app)  # first: the request id is set before any other hook logs
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["plural"] = plural  # {{ n | plural("user") }}: "1 user", "2 users"
    app.before_request(refuse_nul_bytes)
    app.after_request(set_security_headers)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(sa.exc.OperationalError, handle_database_unavailable)

    @app.context_processor
    def navigation():
        user = current_user if current_user.is_authenticated else None
        # Nothing to navigate to before a password someone else chose is replaced.
        if user is None or user.must_change_password:
            return {"signed_in": user, "navigation": [], "unread_notifications": 0}
        return {
            "signed_in": user,
            "navigation": navigation_for(user.role, user.roles),
            # One probe of the (user_id, read_at) index per page drawn.
            "unread_notifications": notifications.unread_count(db.session, user.id),
        }

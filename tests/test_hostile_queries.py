"""Every query parameter of every page, sent hostile values, never gets a server error.

The parameters are not listed by hand: the test signs in as each role on the demo data,
follows every link and reads every GET form of every page it reaches, and so learns each
page's parameters (filters, sorting, pages, the ``vendor_id`` a "new" link pre-fills). Each
is then sent blank, whitespace, numbers beyond a 32-bit column in both directions, values no
select offers and very long text. Run it on PostgreSQL (VR_TEST_BACKEND=postgresql): its
integers are 32 bits, where an id beyond them was a 500 ("integer out of range").
"""

from __future__ import annotations

import time
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from vendor_risk.db import db
from vendor_risk.models import Role, User

HOSTILE = [
    "",
    " ",
    "\t",
    "0",
    "-1",
    "-2147483649",
    "2147483648",
    "9223372036854775808",
    "1" * 40,
    "1e99",
    "nan",
    "not-a-choice",
    "<b>x</b>",
    "%",
    "x" * 5000,
]
# Pages whose answer is a file (a PDF, a workbook): built once per value, so fewer values.
HOSTILE_FOR_FILES = ["", " ", "2147483648", "-2147483649", "not-a-choice"]
# Reached by following links, but not pages to walk: they end the session or leave the app.
NOT_FOLLOWED = {"auth.logout", "static"}
MAX_PAGES_PER_ROLE = 400
VENDOR_BOX = "-name"


class _Page(HTMLParser):
    """The links and the GET forms' fields of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, set[str]]] = []  # (action, field names)
        self._form: tuple[str, set[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form" and (attrs.get("method") or "get").lower() == "get":
            self._form = (attrs.get("action") or "", set())
            self.forms.append(self._form)
        elif tag in {"input", "select", "textarea", "button"} and self._form and attrs.get("name"):
            self._form[1].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _sign_in(client, user_id: int) -> None:
    with client.application.app_context():
        token = db.session.get(User, user_id).session_token
    now = int(time.time())
    with client.session_transaction() as sess:
        sess["_user_id"] = token
        sess["_fresh"] = True
        sess["auth_at"] = now
        sess["seen_at"] = now


def _endpoint(adapter, path: str) -> str | None:
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _crawl(client, adapter, home: str) -> tuple[dict[str, str], dict[str, set[str]], set[str]]:
    """Every page reachable from ``home``: one path per endpoint, the parameters seen for it,
    and the endpoints that answer with a file."""
    paths: dict[str, str] = {}
    params: dict[str, set[str]] = {}
    files: set[str] = set()
    queue = deque([home])
    seen: set[tuple[str, str]] = set()
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        parts = urlsplit(url)
        endpoint = _endpoint(adapter, parts.path)
        if endpoint is None or endpoint in NOT_FOLLOWED:
            continue
        names = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
        params.setdefault(endpoint, set()).update(names)
        # One visit per endpoint and set of parameters: enough to find every form and link.
        key = (endpoint, ",".join(sorted(names)))
        if key in seen:
            continue
        seen.add(key)
        paths.setdefault(endpoint, parts.path)
        response = client.get(url)
        response.close()  # a download holds its file open until closed
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200:
            continue
        if not response.mimetype.startswith("text/html"):
            files.add(endpoint)
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        for link in page.links:
            target = urljoin(url, link)
            if target.startswith("/") and not target.startswith("//"):
                queue.append(target)
        for action, fields in page.forms:
            target = urlsplit(urljoin(url, action or parts.path))
            form_endpoint = _endpoint(adapter, target.path)
            if form_endpoint is None:
                continue
            fields = fields - {"csrf_token"}
            # A vendor box is sent as "<field>-name"; links send the id as "<field>".
            fields |= {f.removesuffix(VENDOR_BOX) for f in fields if f.endswith(VENDOR_BOX)}
            params.setdefault(form_endpoint, set()).update(fields)
            paths.setdefault(form_endpoint, target.path)
            if target.path not in {urlsplit(u).path for u in queue}:
                queue.append(target.path)
    return paths, params, files


@pytest.fixture
def demo_app(make_app):
    # A server error is answered as the users would get it (a 500 page), so the walk can
    # count every one instead of stopping at the first.
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


ROLES = {
    Role.admin: "/admin/",
    Role.procurement: "/procurement/",
    Role.risk_officer: "/risk/",
    Role.vendor_contact: "/portal/",
}


@pytest.mark.parametrize("role", list(ROLES), ids=[r.value for r in ROLES])
def test_no_query_parameter_gets_a_server_error(demo_app, make_user, role):
    if role is Role.admin:
        user_id = make_user(Role.admin).id
    else:
        with demo_app.app_context():
            user_id = db.session.scalar(sa.select(User.id).where(User.role == role).limit(1))
    client = demo_app.test_client()
    _sign_in(client, user_id)
    adapter = demo_app.url_map.bind("localhost")
    paths, params, files = _crawl(client, adapter, ROLES[role])

    tried = 0
    failures = []
    for endpoint, names in sorted(params.items()):
        if endpoint not in paths:
            continue
        for name in sorted(names):
            for value in HOSTILE_FOR_FILES if endpoint in files else HOSTILE:
                url = f"{paths[endpoint]}?{urlencode({name: value})}"
                response = client.get(url)
                response.close()
                tried += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {url[:120]}")
    assert not failures, "\n".join(failures)
    # The walk found the filters it is meant to try (a broken crawl would try nothing).
    found = {(e, n) for e, names in params.items() for n in names}
    expected = {
        Role.admin: {("admin.audit", "outcome"), ("admin.audit", "action")},
        Role.procurement: {
            ("requests.index", "vendor_id"),
            ("requests.new_request", "vendor_id"),
            ("inventory.credentials", "holder_vendor_id"),
            ("inventory.new_credential", "holder_vendor_id"),
        },
        Role.risk_officer: {
            ("findings.index", "vendor_id"),
            ("findings.new_finding", "vendor_id"),
            ("incidents.new_incident", "vendor_id"),
            ("requests.index", "vendor_id"),
        },
        # The portal's pages take no query parameter: the walk still visits them all.
        Role.vendor_contact: set(),
    }[role]
    assert expected <= found, sorted(found)
    assert len(paths) >= 5, sorted(paths)
    if role is not Role.vendor_contact:
        assert tried > 50

"""Route x role matrix: every route of the app, asked by every kind of visitor, answers as the
checked-in table tests/route_matrix.txt says; a route missing from the table fails the suite."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import add, app_url_map, login_as, login_password_only
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map

from vendor_risk.models import Role, UserRole

TABLE = Path(__file__).with_name("route_matrix.txt")
PRINCIPALS = ("anonymous", "half", "vendor_a", "vendor_b", "procurement", "risk_officer", "admin")
LOGGED_IN_ROLE = {
    "vendor_a": Role.vendor_contact,
    "vendor_b": Role.vendor_contact,
    "procurement": Role.procurement,
    "risk_officer": Role.risk_officer,
    "admin": Role.admin,
}
# Written here, not taken from the app: the table's `home` is what a user should land on.
HOME = {
    Role.admin: "/admin/",
    Role.procurement: "/procurement/",
    Role.risk_officer: "/risk/",
    Role.vendor_contact: "/portal/",
}
REDIRECT_TOKENS = {"/auth/login": "login", "/auth/mfa": "mfa"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Line:
    method: str
    path: str  # may hold placeholders such as {victim}
    expected: dict[str, str]  # principal -> outcome token

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def read_table(path: Path = TABLE) -> list[Line]:
    lines = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        method, route, *outcomes = text.split()
        where = f"{path.name}:{number}"
        if len(outcomes) != len(PRINCIPALS):
            raise ValueError(f"{where}: {len(PRINCIPALS)} outcomes expected, got {len(outcomes)}")
        for principal, token in zip(PRINCIPALS, outcomes, strict=True):
            if not (token.isdigit() or token in {"login", "mfa", "home"}):
                raise ValueError(f"{where}: unknown outcome {token!r}")
            if token == "home" and principal not in LOGGED_IN_ROLE:
                raise ValueError(f"{where}: {principal} has no home page")
        lines.append(Line(method, route, dict(zip(PRINCIPALS, outcomes, strict=True))))
    return lines


def concrete(path: str, victim: int) -> str:
    return path.format(victim=victim)


def routes_of(url_map: Map) -> set[tuple[str, str]]:
    """Every (method, rule) a visitor can ask for, but static files."""
    return {
        (method, rule.rule)
        for rule in url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IGNORED_METHODS
    }


LINES = read_table()


def test_every_route_has_exactly_one_line_in_the_table():
    url_map = app_url_map()
    adapter = url_map.bind("localhost")
    covered: dict[tuple[str, str], Line] = {}
    problems = []
    for line in LINES:
        try:
            rule, _ = adapter.match(
                concrete(line.path, victim=1), method=line.method, return_rule=True
            )
        except (NotFound, MethodNotAllowed):
            problems.append(f"{line}: no such route in the app any more")
            continue
        key = (line.method, rule.rule)
        if rule.endpoint == "static":
            problems.append(f"{line}: static files are not part of the matrix")
        elif key in covered:
            problems.append(f"{line}: the same route as {covered[key]}")
        covered[key] = line
    missing = sorted(routes_of(url_map) - covered.keys(), key=lambda r: (r[1], r[0]))
    problems += [f"{method} {rule}: no line in {TABLE.name}" for method, rule in missing]
    assert not problems, "\n".join(problems)


# ---- the matrix ----------------------------------------------------------------------------


@pytest.fixture
def world(make_vendor, make_user):
    """Two vendors, a user of every kind, and a victim for the routes that act on a user."""
    vendor_a = make_vendor("Vendor A")
    vendor_b = make_vendor("Vendor B")
    users = {
        "vendor_a": make_user(Role.vendor_contact, vendor_id=vendor_a),
        "vendor_b": make_user(Role.vendor_contact, vendor_id=vendor_b),
        "procurement": make_user(Role.procurement),
        "risk_officer": make_user(Role.risk_officer),
        "admin": make_user(Role.admin),
        "half": make_user(Role.admin),
    }
    victim = make_user(Role.procurement, email="victim@example.com")
    return users, victim


def outcome(response, home: str | None) -> str:
    """The response as a table token: login, mfa, home, or its status code."""
    if response.status_code in {301, 302, 303, 307, 308}:
        target = urlsplit(response.headers["Location"]).path
        if target in REDIRECT_TOKENS:
            return REDIRECT_TOKENS[target]
        if home is not None and target == home:
            return "home"
    return str(response.status_code)


CASES = [(line, principal) for line in LINES for principal in PRINCIPALS]


@pytest.mark.parametrize(("line", "principal"), CASES, ids=[f"{p}:{line}" for line, p in CASES])
def test_route_answers_each_principal_as_the_table_says(client, world, line, principal):
    users, victim = world
    home = None
    if principal == "half":
        login_password_only(client, users["half"])
    elif principal in LOGGED_IN_ROLE:
        login_as(client, users[principal])
        home = HOME[LOGGED_IN_ROLE[principal]]

    path = concrete(line.path, victim=victim.id)
    data = {} if line.method == "POST" else None
    response = client.open(path, method=line.method, data=data)

    got = outcome(response, home)
    where = response.headers.get("Location", "")
    assert got == line.expected[principal], (
        f"{line.method} {path} as {principal}: the table says {line.expected[principal]}, "
        f"the app answered {got}" + (f" (to {where})" if where else "")
    )


# ---- several roles: the union of the columns ------------------------------------------------


def _union(admin: str, risk_officer: str) -> set[str]:
    """What a user holding both roles may get for a route: whichever column admits, the
    route is open to them (a home redirect may land on the other role's home)."""
    open_tokens = [t for t in (admin, risk_officer) if t != "403"]
    if not open_tokens:
        return {"403"}
    return {("302" if t == "home" else t) for t in open_tokens} | {"home"}


GET_LINES = [line for line in LINES if line.method == "GET"]


def test_a_user_holding_admin_and_risk_officer_gets_both_columns(client, world, make_user):
    """Every GET route, asked by one user who is admin and risk officer at once, answers as
    one of the two columns admits; a route both columns refuse stays refused."""
    _users, victim = world
    both = make_user(Role.admin)
    add(client.application, UserRole(user_id=both.id, role=Role.risk_officer))
    login_as(client, both)
    problems = []
    for line in GET_LINES:
        path = concrete(line.path, victim=victim.id)
        got = outcome(client.get(path), HOME[Role.admin])
        if line.path.startswith("/auth/"):
            continue  # the login steps send a complete session home, as for anyone
        allowed = _union(line.expected["admin"], line.expected["risk_officer"])
        if got not in allowed:
            problems.append(f"GET {path}: {got}, expected one of {sorted(allowed)}")
    assert not problems, "\n".join(problems)
    assert client.get("/admin/users").status_code == 200
    assert client.get("/review/").status_code == 200
    assert client.get("/procurement/").status_code == 403

"""Every command that takes a vendor's name, given one that matches none, says so in one line
and offers the closest names (issue 15): "no vendor named 'keystone'; did you mean 'Keystone
Identity'?". Nothing is done."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from vendor_risk.db import db
from vendor_risk.models import User
from vendor_risk.services.close_names import close_vendor_names

PASSWORD = "correct horse battery staple\n"

# Each command with a vendor name, and the exit code of its refusal (report says "Error:" and
# exits 1, the others are usage errors, 2).
COMMANDS = {
    "blast-radius": (["blast-radius", "{name}"], 2),
    "rescore": (["rescore", "{name}"], 2),
    "report": (["report", "{name}", "-o", "{out}/vendor.pdf"], 1),
    "create-user": (
        [
            "create-user",
            "--email=new@example.com",
            "--name=New",
            "--role=vendor_contact",
            "--vendor={name}",
            "--password-stdin",
        ],
        2,
    ),
}


@pytest.fixture
def portfolio(make_vendor):
    for name in ("Keystone Identity", "Keystone Logistics", "Harbor Payroll", "100% Uptime"):
        make_vendor(name)


def run(app, tmp_path, command: str, name: str):
    args, code = COMMANDS[command]
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    args = [a.format(name=name, out=out) for a in args]
    result = app.test_cli_runner().invoke(args=args, input=PASSWORD)
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_name_offers_the_close_ones(app, tmp_path, portfolio, command):
    output = run(app, tmp_path, command, "keystone")
    assert (
        "no vendor named 'keystone'; did you mean 'Keystone Identity' or 'Keystone Logistics'?"
    ) in output
    assert not list((tmp_path / "out").iterdir())  # nothing written
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_a_misspelt_name_offers_the_one_meant(app, tmp_path, portfolio, command):
    output = run(app, tmp_path, command, "Harbour Payrol")
    assert "no vendor named 'Harbour Payrol'; did you mean 'Harbor Payroll'?" in output


@pytest.mark.parametrize("command", COMMANDS)
def test_a_name_close_to_none_says_only_that_it_matches_none(app, tmp_path, portfolio, command):
    output = run(app, tmp_path, command, "Zebra Cloud")
    assert "no vendor named 'Zebra Cloud'" in output and "did you mean" not in output


def test_close_names_are_found_in_any_case_and_with_like_characters(app, portfolio):
    with app.app_context():
        assert close_vendor_names(db.session, "HARBOR") == ["Harbor Payroll"]
        assert close_vendor_names(db.session, "100%") == ["100% Uptime"]
        assert close_vendor_names(db.session, "_") == []  # LIKE's wildcard is a plain letter
        assert close_vendor_names(db.session, "   ") == []
        assert len(close_vendor_names(db.session, "e")) == 3  # never more than three

"""Benchmark: the server time of confirming an authenticator at enrolment (``POST /auth/enrol``
with a valid code), which also makes and stores the ten recovery codes; and of a login with a
recovery code. Measured with the app's default (production) argon2id parameters, on a new
SQLite file, through the test client: the time is the server's, no network.

The goal (issue 15, section 3): enrolment under half a second of server time. Each figure is
the median of ``--repeat`` enrolments of new users. Prints one JSON object per line. See
bench/README.md.

    .venv/bin/python bench/enrolment.py
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import pyotp

PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark's own account


def _app(folder: Path):
    from vendor_risk import create_app

    app = create_app(
        {
            "SECRET_KEY": "benchmark secret key, not for production use",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        },
        instance_path=str(folder / "instance"),
    )
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return app


def _new_user(app, n: int) -> str:
    from vendor_risk.db import db
    from vendor_risk.models import Role
    from vendor_risk.services.accounts import users as accounts
    from vendor_risk.services.audit import Actor

    email = f"bench{n}@example.com"
    with app.app_context():
        accounts.create_user(
            db.session,
            email=email,
            name=f"Bench {n}",
            password=PASSWORD,
            role=Role.risk_officer,
            actor=Actor.system("bench"),
        )
        db.session.commit()
    return email


def _enrol(app, email: str) -> tuple[float, float, list[str]]:
    """Seconds of the confirming POST, of a later login with a recovery code, and the codes."""
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/auth/enrol"), response.status
    page = client.get("/auth/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    started = time.perf_counter()
    done = client.post("/auth/enrol", data={"code": code})
    enrolment = time.perf_counter() - started
    codes = re.findall(r"<li><code>([a-z2-9-]{19})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10, done.status
    client = app.test_client()
    client.post("/auth/login", data={"email": email, "password": PASSWORD})
    started = time.perf_counter()
    used = client.post("/auth/recovery", data={"code": codes[-1]})
    recovery = time.perf_counter() - started
    assert used.status_code == 302, used.status
    return enrolment, recovery, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder))
        _enrol(app, _new_user(app, 0))  # warm-up: templates, the hasher, the first queries
        enrolments, recoveries = [], []
        for n in range(1, args.repeat + 1):
            enrolment, recovery, _ = _enrol(app, _new_user(app, n))
            enrolments.append(enrolment)
            recoveries.append(recovery)
    for name, figures in (("enrolment", enrolments), ("login with a recovery code", recoveries)):
        print(
            json.dumps(
                {
                    "measure": name,
                    "median_s": round(statistics.median(figures), 4),
                    "max_s": round(max(figures), 4),
                    "runs": len(figures),
                    "goal_s": 0.5 if name == "enrolment" else None,
                }
            )
        )


if __name__ == "__main__":
    main()

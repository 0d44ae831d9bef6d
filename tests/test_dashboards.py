"""The three home pages: the risk officer's dashboard, procurement's, and a vendor contact's
portal home.

A portfolio is built through the services the app uses (inventory rows, the portfolio's
aggregates refreshed, which rates every vendor; an incident opened with its checklist) plus
findings and requests written as rows with the dates a test needs. Every count a dashboard
shows is checked against a count of the rows themselves, and every link behind a count (a
bar, a heat-map cell, a number) is followed: the list it opens shows exactly that many rows.
The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from conftest import add, login_as, text, update_portfolio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.core.questionnaire import loader
from vendor_risk.core.scoring import SectionTotals, Tier
from vendor_risk.db import db, utcnow
from vendor_risk.models import (
    Credential,
    CredentialKind,
    Criticality,
    DataCategory,
    Environment,
    Finding,
    FindingSeverity,
    FindingSource,
    FindingStatus,
    Incident,
    IncidentStatus,
    PortfolioDay,
    Privilege,
    QuestionnaireRequest,
    RequestScore,
    RequestStatus,
    Role,
    ScoreTrigger,
    Sensitivity,
    Substitutability,
    System,
    Vendor,
    VendorData,
    VendorRating,
    VendorReach,
    VendorStatus,
)
from vendor_risk.reports.charts import day_text
from vendor_risk.services import findings, incidents, inventory, portfolio_history
from vendor_risk.services.assessments import ratings, scoring
from vendor_risk.services.audit import Actor
from vendor_risk.services.portfolio import (
    aggregates as portfolio,
)
from vendor_risk.services.portfolio import (
    dashboards,
)
from vendor_risk.services.questionnaires import library as questionnaires
from vendor_risk.web.risk import dashboard as dashboard_charts

QUESTIONNAIRE = """
format: 1
id: security-basics
title: Security basics
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    questions:
      - id: mfa
        type: yes_no
        text: Do your staff sign in with MFA?
"""


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def actor_of(user) -> Actor:
    return Actor(label=user.email, user_id=user.id)


# ---- a portfolio ---------------------------------------------------------------------------


@pytest.fixture
def world(app, make_vendor, make_user):
    """Five vendors of every kind of risk and status, rated; findings of every severity and
    age; requests in every state; an open incident with a rotation gap and a closed one."""
    today = utcnow().date()
    v = {
        "keystone": make_vendor(
            "Keystone Identity",
            status=VendorStatus.active,
            criticality=Criticality.critical,
            substitutability=Substitutability.none,
            next_review=today - timedelta(days=10),
        ),
        "harbor": make_vendor(
            "Harbor Payroll",
            status=VendorStatus.active,
            criticality=Criticality.high,
            next_review=today + timedelta(days=20),
        ),
        "lantern": make_vendor(
            "Lantern Wiki",
            status=VendorStatus.onboarding,
            next_review=today + timedelta(days=60),
        ),
        "quill": make_vendor(
            "Quill Print",
            status=VendorStatus.prospect,
            criticality=Criticality.low,
            next_review=today - timedelta(days=5),
        ),
        "nimbus": make_vendor(
            "Nimbus Offsite", status=VendorStatus.offboarding, criticality=Criticality.low
        ),
    }
    people = {
        "officer": make_user(Role.risk_officer),
        "procurement": make_user(Role.procurement),
        "contact_keystone": make_user(Role.vendor_contact, vendor_id=v["keystone"]),
        "contact_harbor": make_user(Role.vendor_contact, vendor_id=v["harbor"]),
    }
    okta, wiki, pii, docs = add(
        app,
        System(name="Okta", environment=Environment.production),
        System(name="Team wiki", environment=Environment.corporate),
        DataCategory(name="Customer PII", sensitivity=Sensitivity.critical),
        DataCategory(name="Internal docs", sensitivity=Sensitivity.low),
    )
    now = utcnow()
    add(
        app,
        # Overdue for rotation: issued 400 days ago, a 90-day period, never rotated.
        Credential(
            name="svc-keystone",
            kind=CredentialKind.service_account,
            holder_vendor_id=v["keystone"],
            system_id=okta,
            privilege=Privilege.admin,
            issued_at=now - timedelta(days=400),
            rotation_period_days=90,
        ),
        Credential(
            name="harbor-api",
            kind=CredentialKind.api_token,
            holder_vendor_id=v["harbor"],
            system_id=okta,
            privilege=Privilege.write,
            issued_at=now - timedelta(days=30),
            last_rotated_at=now - timedelta(days=5),
            expires_at=now + timedelta(days=10),  # expiring soon
        ),
        Credential(
            name="lantern-editor",
            kind=CredentialKind.user_account,
            holder_vendor_id=v["lantern"],
            system_id=wiki,
            privilege=Privilege.read,
            interactive=True,
            mfa_enforced=True,
            issued_at=now - timedelta(days=60),
            last_rotated_at=now - timedelta(days=20),
            expires_at=now - timedelta(days=1),  # expired
        ),
        VendorData(vendor_id=v["keystone"], data_category_id=pii, records=2_000_000),
        VendorData(vendor_id=v["harbor"], data_category_id=pii, records=40_000),
        VendorData(vendor_id=v["lantern"], data_category_id=docs, records=500),
    )
    with app.test_request_context():
        parsed = loader.parse(QUESTIONNAIRE, "security-basics.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="security-basics.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        version_id = stored.version.id
        portfolio.refresh(db.session)
        db.session.commit()
        incidents.open_incident(
            db.session,
            {
                "vendor_id": v["keystone"],
                "title": "Keystone support system breached",
                "started_at": midnight(today - timedelta(days=2)),
                "detected_at": midnight(today - timedelta(days=1)),
                "notes": "",
            },
            actor=actor_of(people["officer"]),
        )
        db.session.commit()

    def finding(vendor, severity, status, age, **fields):
        return Finding(
            vendor_id=v[vendor],
            source=FindingSource.manual,
            title=f"{severity.value} finding of {vendor}, {age} days old",
            severity=severity,
            status=status,
            created_at=now - timedelta(days=age),
            **fields,
        )

    S, F = FindingSeverity, FindingStatus
    add(
        app,
        finding("keystone", S.critical, F.open, 5, due_on=today - timedelta(days=1)),
        finding("keystone", S.high, F.in_remediation, 45, due_on=today + timedelta(days=30)),
        finding("keystone", S.medium, F.open, 120),
        finding("keystone", S.low, F.resolved, 10),
        finding("keystone", S.high, F.accepted, 10),
        finding("harbor", S.critical, F.open, 100, due_on=today + timedelta(days=3)),
        finding("harbor", S.low, F.open, 2, visible_to_vendor=False),
        finding("quill", S.medium, F.in_remediation, 31),
    )

    def request(vendor, status, *, due=None, sent=None, submitted=None):
        return QuestionnaireRequest(
            vendor_id=v[vendor],
            version_id=version_id,
            status=status,
            due_on=None if due is None else today + timedelta(days=due),
            sent_at=None if sent is None else now - timedelta(days=sent),
            submitted_at=None if submitted is None else now - timedelta(days=submitted),
            question_count=1,
        )

    R = RequestStatus
    add(
        app,
        request("keystone", R.sent, due=-3, sent=20),  # overdue
        request("harbor", R.in_progress, due=3, sent=10),  # due this week
        request("lantern", R.returned, due=10, sent=30, submitted=25),
        request("keystone", R.submitted, due=5, sent=10, submitted=2),  # 8 days
        request("harbor", R.under_review, due=-1, sent=20, submitted=14),  # 6 days
        request("quill", R.accepted, due=-20, sent=40, submitted=30),  # 10 days
        request("nimbus", R.draft),
        request("lantern", R.cancelled, due=-40, sent=50),
        request("quill", R.accepted, sent=200, submitted=150),  # outside the 90 days
        request("harbor", R.sent, due=0, sent=1),  # due today: due soon, not overdue
    )
    add(
        app,
        Incident(
            vendor_id=v["harbor"],
            title="Harbor phishing, contained",
            started_at=midnight(today - timedelta(days=90)),
            detected_at=midnight(today - timedelta(days=89)),
            status=IncidentStatus.closed,
            opened_by_id=people["officer"].id,
            closed_at=now - timedelta(days=60),
            closed_by_id=people["officer"].id,
        ),
    )
    return {**v, **people, "today": today, "okta": okta, "pii": pii, "version": version_id}


# ---- reading pages -------------------------------------------------------------------------

_TAG = re.compile(r"<a\b([^>]*)>")
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def counted_links(page: str) -> list[tuple[str, int, str]]:
    """Every link of the page that carries a count: (href, count, what it says), from the
    charts' links (their accessible name ends with ": N ...") and from the numbers written as
    links (<a href><strong>N</strong> ...)."""
    found = []
    for match in _TAG.finditer(page):
        attributes = dict(_ATTRIBUTE.findall(match.group(1)))
        href, label = attributes.get("href", ""), html.unescape(attributes.get("aria-label", ""))
        count = re.search(r": ([\d,]+)(?: [^:]*)?$", label)
        if href.startswith("/") and count:
            found.append((html.unescape(href), int(count.group(1).replace(",", "")), label))
            continue
        following = page[match.end() : match.end() + 200]
        strong = re.match(r"\s*<strong>([\d,]+)</strong>([^<]*)", following)
        if href.startswith("/") and strong:
            found.append(
                (html.unescape(href), int(strong.group(1).replace(",", "")), strong.group(2))
            )
    return found


def listed(client, href: str) -> int:
    """How many rows the list at ``href`` says it shows."""
    response = client.get(href)
    assert response.status_code == 200, (href, response.get_data(as_text=True)[:2000])
    summary = re.search(r'class="list-summary">\s*([\d,]+) ', response.get_data(as_text=True))
    assert summary, f"{href} shows no list summary"
    return int(summary.group(1).replace(",", ""))


def card(page: str, href: str) -> int:
    """The number written as the link to ``href``."""
    match = re.search(rf'<a href="{re.escape(html.escape(href))}"><strong>([\d,]+)</strong>', page)
    assert match, f"no count links to {href}"
    return int(match.group(1).replace(",", ""))


# ---- what the rows say, counted here independently ------------------------------------------


def truth(app, today: date) -> dict:
    with app.app_context():
        s = db.session
        ratings = s.execute(
            sa.select(
                Vendor.status,
                VendorReach.inherent_tier,
                VendorRating.residual_tier,
                VendorRating.override_tier,
            )
            .outerjoin(VendorReach, VendorReach.vendor_id == Vendor.id)
            .outerjoin(VendorRating, VendorRating.vendor_id == Vendor.id)
        ).all()
        finding_rows = s.execute(
            sa.select(Finding.severity, Finding.status, Finding.created_at)
        ).all()
        requests = s.execute(
            sa.select(QuestionnaireRequest.status, QuestionnaireRequest.due_on)
        ).all()
        vendors = s.execute(sa.select(Vendor.status, Vendor.next_review)).all()
        open_incidents = s.scalar(
            sa.select(sa.func.count())
            .select_from(Incident)
            .where(Incident.status == IncidentStatus.open)
        )
    tiers = Counter(override or residual for _, _, residual, override in ratings if residual)
    heat = Counter(
        (inherent, override or residual)
        for _, inherent, residual, override in ratings
        if residual and inherent
    )
    to_remediate = [
        (severity, (today - created.astimezone(UTC).date()).days)
        for severity, status, created in finding_rows
        if status in (FindingStatus.open, FindingStatus.in_remediation)
    ]
    waiting_vendor = {RequestStatus.sent, RequestStatus.in_progress, RequestStatus.returned}
    return {
        "vendors": len(ratings),
        "tiers": tiers,
        "heat": heat,
        "status_tiers": Counter(
            (str(status), override or residual or "unrated")
            for status, _, residual, override in ratings
        ),
        "to_remediate": to_remediate,
        "overdue": sum(
            1 for st, due in requests if st in waiting_vendor and due is not None and due < today
        ),
        "awaiting_review": sum(
            1 for st, _ in requests if st in (RequestStatus.submitted, RequestStatus.under_review)
        ),
        "due_soon": sum(
            1
            for st, due in requests
            if st in waiting_vendor and due is not None and today <= due <= today + timedelta(7)
        ),
        "reassessments": sum(
            1
            for st, review in vendors
            if st in (VendorStatus.active, VendorStatus.onboarding)
            and review is not None
            and review <= today + timedelta(days=30)
        ),
        "incidents": open_incidents,
    }


# ---- the risk officer's dashboard ------------------------------------------------------------


def test_every_count_of_the_risk_dashboard_is_what_the_rows_say(app, client, world):
    login_as(client, world["officer"])
    response = client.get("/risk/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = truth(app, world["today"])
    # The portfolio is varied enough for the counts to mean something.
    assert len(expected["tiers"]) >= 2 and len(expected["heat"]) >= 2
    assert expected["overdue"] == 1 and expected["awaiting_review"] == 2
    assert expected["reassessments"] == 2 and expected["incidents"] == 1

    assert card(page, "/requests/?overdue=y") == expected["overdue"]
    assert card(page, "/requests/?waiting=review") == expected["awaiting_review"]
    assert card(page, "/requests/reassessments?within=30") == expected["reassessments"]
    assert card(page, "/findings/?to_remediate=y") == len(expected["to_remediate"]) == 6
    assert card(page, "/inventory/credentials?rotation=overdue") == 1
    assert card(page, "/incidents/?status=open") == expected["incidents"]
    assert card(page, "/inventory/vendors") == expected["vendors"] == 5
    for tier in ("critical", "high", "medium", "low"):
        assert card(page, f"/inventory/vendors?residual={tier}") == expected["tiers"][tier]

    links = dict((href, n) for href, n, _ in counted_links(page))
    for (inherent, residual), n in expected["heat"].items():
        assert links[f"/inventory/vendors?tier={inherent}&residual={residual}"] == n
    for (status, tier), n in expected["status_tiers"].items():
        assert links[f"/inventory/vendors?status={status}&residual={tier}"] == n
    ages = {"0-30": range(0, 31), "31-90": range(31, 91), "91+": range(91, 10_000)}
    for severity in FindingSeverity:
        for bucket, days in ages.items():
            n = sum(1 for s, age in expected["to_remediate"] if s == severity and age in days)
            href = f"/findings/?to_remediate=y&severity={severity.value}&age={bucket}"
            assert links[href.replace("+", "%2B")] == n
    assert links["/inventory/credentials?rotation=expired"] == 1
    assert links["/inventory/credentials?rotation=expiring_soon"] == 1


def test_every_link_behind_a_count_lists_exactly_that_many_rows(client, world):
    login_as(client, world["officer"])
    page = client.get("/risk/").get_data(as_text=True)
    links = counted_links(page)
    # Charts (stacked bars, heat map, bars) and numbers: dozens of links, each followed.
    assert len(links) > 40
    targets = {href.split("?")[0] for href, _, _ in links}
    assert {
        "/inventory/vendors",
        "/findings/",
        "/requests/",
        "/requests/reassessments",
        "/inventory/credentials",
        "/incidents/",
    } <= targets
    for href, n, said in links:
        if href.startswith(("/inventory/vendors/", "/inventory/systems/")):
            continue  # one vendor's or system's page: not a list
        assert listed(client, href) == n, f"{said!r} links to {href}"


def test_the_top_vendors_concentration_and_open_incidents_link_to_their_pages(app, client, world):
    login_as(client, world["officer"])
    page = text(client.get("/risk/"))
    # Keystone's admin token into production: the largest blast radius, Okta the most reached.
    assert f'href="/inventory/vendors/{world["keystone"]}/blast-radius"' in page
    assert f'href="/inventory/systems/{world["okta"]}"' in page
    with app.app_context():
        incident = db.session.scalar(
            sa.select(Incident).where(Incident.status == IncidentStatus.open)
        )
        gap = incidents.gap_size(db.session, incident.id)
    assert gap == 1
    row = re.search(r"Keystone support system breached.*?</tr>", page, re.S).group(0)
    assert f"/incidents/{incident.id}" in row
    assert f">{gap}<span" in row and "credentials in the rotation gap" in row
    assert "Harbor phishing, contained" not in page  # closed


def test_the_reassessments_due_are_listed_the_longest_overdue_first(client, world):
    login_as(client, world["officer"])
    page = text(client.get("/risk/"))
    section = page.split('id="reassessments-title"')[1].split("</section>")[0]
    # Active and onboarding vendors due within 30 days: Keystone (overdue) then Harbor; not
    # Quill (a prospect) nor Lantern (60 days away).
    assert section.index("Keystone Identity") < section.index("Harbor Payroll")
    assert "Quill Print" not in section and "Lantern Wiki" not in section
    assert "overdue" in section.split("Harbor Payroll")[0]


# ---- the figures of the day ------------------------------------------------------------------


def latest(app) -> portfolio_history.Day:
    with app.app_context():
        return portfolio_history.latest(db.session)


def test_a_rescore_records_the_day_and_the_trend_carries_it_forward(app, client, world):
    today = world["today"]
    earlier = midnight(today - timedelta(days=3)) + timedelta(hours=12)
    with app.app_context():
        rated = db.session.scalar(sa.select(sa.func.count()).select_from(VendorRating))
        scoring.rescore(db.session, [], trigger=ScoreTrigger.rescore, now=earlier)
        db.session.commit()
        row = db.session.get(PortfolioDay, earlier.date())
        assert row is not None and row.rated == rated == 5
        before = row.mean_residual
        # Nimbus gets admin access into production and the customer data: riskier.
        db.session.add_all(
            [
                Credential(
                    name="nimbus-admin",
                    kind=CredentialKind.sso_admin,
                    holder_vendor_id=world["nimbus"],
                    system_id=world["okta"],
                    privilege=Privilege.admin,
                ),
                VendorData(vendor_id=world["nimbus"], data_category_id=world["pii"], records=10**6),
            ]
        )
        db.session.commit()
        portfolio.refresh(db.session)
        db.session.commit()
        after = db.session.get(PortfolioDay, today).mean_residual
        points = portfolio_history.trend(db.session, today=today, days=30)
    assert after > before
    # The first recorded day, two days carried forward, then today's change.
    assert points == (
        (today - timedelta(days=3), before),
        (today - timedelta(days=2), before),
        (today - timedelta(days=1), before),
        (today, after),
    )
    login_as(client, world["officer"])
    page = text(client.get("/risk/"))
    trend = page.split('id="trend-title"')[1].split("</section>")[0]
    for day, _ in points:
        assert day_text(day) in trend  # "3 Dec 2026", as people write a day
    assert f"from {before:.1f} on {day_text(points[0][0])} to {after:.1f}" in trend


def test_the_trend_starts_from_the_last_day_before_its_window(app, world):
    today = world["today"]
    with app.app_context():
        for days_ago in (40, 25):
            when = midnight(today - timedelta(days=days_ago))
            scoring.rescore(db.session, [], trigger=ScoreTrigger.rescore, now=when)
        db.session.commit()
        points = portfolio_history.trend(db.session, today=today, days=10)
    # The window's first day carries the figure of 25 days ago: one point per day.
    assert len(points) == 10 and points[0][0] == today - timedelta(days=9)


def test_a_status_change_and_a_deletion_update_the_figures_at_once(app, world):
    officer = Actor(label="officer@example.com", user_id=world["officer"].id)
    before = latest(app)
    with app.app_context():
        lantern = db.session.get(Vendor, world["lantern"])
        tier = db.session.get(VendorRating, lantern.id).residual_tier
        inventory.update_vendor(db.session, lantern, {"status": VendorStatus.active}, actor=officer)
        db.session.commit()
    after = latest(app)
    assert after.of_status("active", tier) == before.of_status("active", tier) + 1
    assert after.of_status("onboarding", tier) == before.of_status("onboarding", tier) - 1

    with app.app_context():
        quill = db.session.get(Vendor, world["quill"])
        db.session.execute(sa.delete(Finding).where(Finding.vendor_id == quill.id))
        db.session.execute(
            sa.delete(QuestionnaireRequest).where(QuestionnaireRequest.vendor_id == quill.id)
        )
        inventory.delete_vendor(db.session, quill, actor=officer)
        db.session.commit()
    assert latest(app).vendors == after.vendors - 1


def test_the_findings_counted_by_triggers_follow_every_change(app, world):
    """The dashboard reads open_finding_day, which triggers keep: after findings are added,
    moved along, given another severity, backdated and deleted (one by one and with their
    vendor), it still says what counting the findings themselves says."""
    officer = actor_of(world["officer"])
    today = world["today"]

    def both():
        with app.app_context():
            return (
                dashboards.open_findings(db.session, today).cells,
                findings.open_counts(db.session, today).cells,
            )

    kept, counted = both()
    assert kept == counted and sum(counted.values()) == 6
    with app.test_request_context():
        rows = db.session.scalars(sa.select(Finding).order_by(Finding.id)).all()
        by_title = {f.title.split(",")[0]: f for f in rows}
        findings.change_status(
            db.session,
            by_title["critical finding of keystone"],
            FindingStatus.resolved,
            expected_version=None,
            actor=officer,
        )
        findings.change_status(
            db.session,
            by_title["low finding of keystone"],
            FindingStatus.open,  # reopened
            expected_version=None,
            actor=officer,
        )
        by_title["medium finding of quill"].severity = FindingSeverity.critical
        by_title["high finding of keystone"].created_at = utcnow() - timedelta(days=200)
        db.session.commit()
    kept, counted = both()
    assert kept == counted and sum(counted.values()) == 6
    with app.app_context():
        db.session.execute(sa.delete(Finding).where(Finding.title.like("%harbor%")))
        db.session.commit()
    kept, counted = both()
    assert kept == counted and sum(counted.values()) == 4
    with app.test_request_context():
        quill = db.session.get(Vendor, world["quill"])
        db.session.execute(
            sa.delete(QuestionnaireRequest).where(QuestionnaireRequest.vendor_id == quill.id)
        )
        inventory.delete_vendor(db.session, quill, actor=officer)  # its findings cascade
        db.session.commit()
    kept, counted = both()
    assert kept == counted and sum(counted.values()) == 3


# ---- procurement -----------------------------------------------------------------------------


def test_the_procurement_dashboard_counts_requests_and_response_times(app, client, world):
    login_as(client, world["procurement"])
    response = client.get("/procurement/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = truth(app, world["today"])
    # Under way, by status: each number links to the list of that status.
    for status, n in {
        "draft": 1,
        "sent": 2,
        "in_progress": 1,
        "submitted": 1,
        "under_review": 1,
        "returned": 1,
    }.items():
        assert card(page, f"/requests/?status={status}") == n
        assert listed(client, f"/requests/?status={status}") == n
    assert "accepted" not in re.findall(r"\?status=(\w+)", page)
    assert card(page, "/requests/?overdue=y") == expected["overdue"] == 1
    assert card(page, "/requests/?due_within=7") == expected["due_soon"] == 2
    for href, n, said in counted_links(page):
        assert listed(client, href) == n, f"{said!r} links to {href}"
    shown = text(response)
    overdue = shown.split('id="overdue-title"')[1].split("</section>")[0]
    assert "Keystone Identity" in overdue and "Harbor Payroll" not in overdue
    due = shown.split('id="due-title"')[1].split("</section>")[0]
    assert "Harbor Payroll" in due and "Keystone Identity" not in due
    # Response times: 5, 8, 6 and 10 days in the last 90 days (a request returned after its
    # submission counts; the one submitted 150 days ago does not).
    times = shown.split('id="response-title"')[1].split("</section>")[0]
    row = re.search(r"All questionnaires</th>(.*?)</tr>", times, re.S).group(1)
    assert re.findall(r'<td class="num">([\d.]+)</td>', row) == ["4", "7.0", "9.4"]
    assert "Security basics" in times


def test_response_times_sample_only_the_latest_submissions(app, world, monkeypatch):
    monkeypatch.setattr(dashboards, "RESPONSE_SAMPLE", 2)
    with app.app_context():
        found = dashboards.response_times(db.session, now=utcnow())
    # The two latest: submitted 2 days ago (8 days) and 14 days ago (6 days).
    assert found.sampled and found.overall.requests == 2
    assert (found.overall.median, found.overall.p90) == (7.0, 7.8)


def test_percentiles_interpolate_between_the_nearest_values():
    assert dashboards.percentile([5.0], 0.9) == 5.0
    assert dashboards.percentile([1.0, 2.0], 0.5) == 1.5
    assert dashboards.percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


# ---- the vendor portal -----------------------------------------------------------------------


def test_a_vendor_contact_sees_only_their_own_vendor(client, world):
    login_as(client, world["contact_keystone"])
    page = text(client.get("/portal/"))
    assert "Keystone Identity" in page
    assert "Harbor" not in page
    assert "finding of harbor" not in page and "finding of keystone" in page
    # Keystone's requests shown to vendors: sent (overdue) and submitted; the findings still to
    # remediate: critical (overdue), high, medium.
    assert re.search(r"<strong>1</strong> questionnaire to answer</a>, .*1 overdue", page)
    assert re.search(r"<strong>3</strong> findings to remediate</a>, .*1 overdue", page)
    assert "low finding of keystone" not in page  # resolved
    assert page.count("/portal/requests/") == 2

    login_as(client, world["contact_harbor"])
    page = text(client.get("/portal/"))
    assert "Keystone" not in page
    assert "critical finding of harbor" in page
    assert "low finding of harbor" not in page  # internal: never shown to the vendor
    # Harbor's: in progress, under review, sent (due today); drafts never reach vendors.
    assert page.count("/portal/requests/") == 3


def test_portal_overdue_requests_stand_out(client, world):
    login_as(client, world["contact_keystone"])
    page = client.get("/portal/").get_data(as_text=True)
    overdue_day = (world["today"] - timedelta(days=3)).isoformat()
    assert f"<strong>{overdue_day}</strong>" in page
    assert 'class="overdue"' in page


# ---- who may see what, and an empty install ---------------------------------------------------


@pytest.mark.parametrize(
    ("role", "risk", "procurement"),
    [
        (Role.risk_officer, 200, 403),
        (Role.procurement, 403, 200),
        (Role.admin, 403, 403),
    ],
)
def test_each_role_opens_its_own_dashboard_only(client, make_user, role, risk, procurement):
    login_as(client, make_user(role))
    assert client.get("/risk/").status_code == risk
    assert client.get("/procurement/").status_code == procurement


def test_a_vendor_contact_opens_neither_staff_dashboard(client, make_user, make_vendor):
    login_as(client, make_user(Role.vendor_contact, vendor_id=make_vendor()))
    assert client.get("/risk/").status_code == 403
    assert client.get("/procurement/").status_code == 403


def test_an_empty_install_renders_every_dashboard_with_help(client, make_user, make_vendor):
    login_as(client, make_user(Role.risk_officer))
    response = client.get("/risk/")
    assert response.status_code == 200
    page = text(response)
    assert "No vendor is registered yet" in page
    # No empty chart is drawn: each says how to get its data, with links to do it.
    assert "<svg" not in page
    assert "No vendor is rated yet" in page and "No history yet" in page
    links = set(re.findall(r'href="([^"]+)"', page))
    assert {"/inventory/vendors/new", "/inventory/vendors/import", "/requests/new"} <= links
    for link in ("/inventory/vendors/new", "/requests/new", "/inventory/credentials/new"):
        assert client.get(link).status_code == 200, link
    assert "No incident is open." in page
    assert "No vendor's next review is past" in page
    login_as(client, make_user(Role.procurement))
    page = text(client.get("/procurement/"))
    assert "No questionnaire request is under way" in page
    assert "No request is overdue." in page
    assert "No questionnaire was submitted in the last 90 days" in page
    login_as(client, make_user(Role.vendor_contact, vendor_id=make_vendor()))
    page = text(client.get("/portal/"))
    assert "There is no questionnaire for you to answer" in page
    assert "Nothing to remediate at the moment." in page


def test_a_vendor_alone_draws_its_rating_but_no_empty_chart(app, client, make_user, make_vendor):
    make_vendor("Acme")
    update_portfolio(app)  # the job after the change: the dashboard never computes it
    login_as(client, make_user(Role.risk_officer))
    page = text(client.get("/risk/"))
    # The vendor is counted and rated (cautiously, from what is known): those are drawn.
    drawn = re.findall(r'<title id="[^"]+">([^<]+)</title>', page)
    assert drawn == [
        "Vendors by status and residual tier",
        "Inherent against residual risk",
        "Portfolio residual risk over time",
    ]
    assert page.count("<svg") == 3
    # Nothing reaches a system, nothing to remediate or rotate: said, not drawn empty.
    assert "No vendor reaches any of our systems yet" in page
    assert "No system is reachable from any vendor yet" in page
    assert "No finding to remediate" in page
    assert "No credential is overdue, expired or expiring soon" in page
    assert 'href="/inventory/credentials/new"' in page


def test_the_heat_map_colours_its_cells_by_their_risk():
    def risk(inherent: Tier, residual: Tier) -> float:
        return dashboard_charts.cell_risk(inherent, residual)

    assert risk(Tier.low, Tier.low) == 0 and risk(Tier.critical, Tier.critical) == 1
    # What remains counts more than what the controls brought down.
    assert risk(Tier.low, Tier.critical) > risk(Tier.critical, Tier.low)
    for tier in Tier:
        ranks = [risk(tier, residual) for residual in Tier]
        assert ranks == sorted(ranks)


def test_a_database_rated_before_the_figures_existed_gets_them_on_first_view(app, client, world):
    with app.app_context():
        db.session.execute(sa.delete(PortfolioDay))
        db.session.commit()
    login_as(client, world["officer"])
    page = client.get("/risk/").get_data(as_text=True)
    assert card(page, "/inventory/vendors") == 5
    assert latest(app).rated == 5


# ---- the filters the dashboards link with ------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        "/inventory/vendors?residual=severe",
        "/findings/?age=ancient",
        "/requests/?waiting=nobody",
        "/requests/?due_within=-1",
        "/requests/?due_within=soon",
        "/incidents/?status=burning",
    ],
)
def test_an_unknown_filter_value_is_a_form_error(client, make_user, href):
    login_as(client, make_user(Role.risk_officer))
    response = client.get(href)
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="(\w+)-error">([^<]+)</p>', text(response))
    assert error, "no message at the field"
    assert error.group(1) == href.split("?")[1].split("=")[0]  # at the field of the filter


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/inventory/vendors?residual=",
            "/findings/?to_remediate=",
            "/requests/?waiting=",
            "/requests/?due_within=",
            "/incidents/?status=",
        ]
    ),
    value=st.text(max_size=40),
)
def test_the_new_filters_answer_any_value_without_a_server_error(client, make_user, path, value):
    if not getattr(client, "logged_in", False):
        login_as(client, make_user(Role.risk_officer))
        client.logged_in = True
    response = client.get(path + quote(value, safe=""))
    assert response.status_code in (200, 400)


def test_an_override_and_its_end_move_the_vendor_between_tiers_at_once(app, world):
    officer = Actor(label="officer@example.com", user_id=world["officer"].id)
    before = latest(app)
    with app.app_context():
        computed = db.session.get(VendorRating, world["quill"]).residual_tier
        overridden = next(t for t in ("critical", "low") if t != computed)
        ratings.set_override(
            db.session,
            world["quill"],
            tier=Tier(overridden),
            reason="The board wants it watched closely.",
            actor=officer,
        )
        db.session.commit()
    during = latest(app)
    assert during.tier(overridden) == before.tier(overridden) + 1
    assert during.tier(computed) == before.tier(computed) - 1
    with app.app_context():
        ratings.clear_override(db.session, world["quill"], actor=officer)
        db.session.commit()
    assert latest(app).tier_counts == before.tier_counts


def test_the_residual_filter_counts_an_override_and_finds_unrated_vendors(app, client, world):
    officer = Actor(label="officer@example.com", user_id=world["officer"].id)
    with app.app_context():
        ratings.set_override(
            db.session,
            world["quill"],
            tier=Tier.critical,
            reason="The board wants it watched closely.",
            actor=officer,
        )
        db.session.commit()
        critical = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(VendorRating)
            .where(
                sa.func.coalesce(VendorRating.override_tier, VendorRating.residual_tier)
                == "critical"
            )
        )
    login_as(client, world["officer"])
    page = text(client.get("/inventory/vendors?residual=critical"))
    assert "Quill Print" in page
    assert listed(client, "/inventory/vendors?residual=critical") == critical
    # Every vendor is rated by the time a list shows (the aggregates are refreshed first):
    # before that, a new vendor is listed as not rated yet.
    assert listed(client, "/inventory/vendors?residual=unrated") == 0
    [new] = add(app, Vendor(name="Brand New Vendor"))
    with app.app_context():
        found = inventory.search_vendors(db.session, residual=portfolio_history.UNRATED)
    assert [row.id for row in found.rows] == [new]


def test_incomplete_and_provisional_ratings_are_shown_as_such(app, client, world):
    # Quill and Nimbus have neither data nor credentials recorded, and no intake says what
    # they hold: their ratings count the three facts at their worst. Harbor's data is recorded
    # without a record count now; Keystone's answers wait for a risk officer.
    with app.app_context():
        db.session.execute(
            sa.update(VendorData)
            .where(VendorData.vendor_id == world["harbor"])
            .values(records=None)
        )
        pending = db.session.scalar(
            sa.select(QuestionnaireRequest.id).where(
                QuestionnaireRequest.vendor_id == world["keystone"],
                QuestionnaireRequest.status == RequestStatus.submitted,
            )
        )
        db.session.add(
            RequestScore(
                request_id=pending,
                totals=[SectionTotals("access", "Access", 1, 1.0, 1, 1, 0, 0).to_dict()],
            )
        )
        db.session.commit()
        scoring.rescore(db.session, [world["keystone"]], trigger=ScoreTrigger.submitted)
        db.session.commit()
    update_portfolio(app)  # the job after the inventory change above
    login_as(client, world["officer"])
    page = client.get("/risk/").get_data(as_text=True)

    assert card(page, "/inventory/vendors?rating=incomplete") == 3
    assert listed(client, "/inventory/vendors?rating=incomplete") == 3
    counts = text_of(page).split("ratings incomplete")[1].split("with a provisional rating")[0]
    assert (
        "missing the data it holds: 2; how many records it holds: 3; the access its "
        "credentials give: 2" in counts
    )
    assert card(page, "/inventory/vendors?rating=provisional") == 1
    # Reassessments due: Harbor's tier is marked incomplete, with what is missing.
    section = text_of(page).split("Reassessments due")[1]
    harbor = section.split("Harbor Payroll")[1].split("Next review")[0]
    assert "incomplete missing: how many records it holds" in harbor.split("Keystone")[0]
    assert "incomplete" not in section.split("Keystone Identity")[1].split("Harbor Payroll")[0]
    # The tiers counted are those that count: Keystone's provisional one is not among them.
    with app.app_context():
        keystone = db.session.get(VendorRating, world["keystone"])
        assert keystone.provisional_score < keystone.residual_score
        assert keystone.control_score is None
    assert latest(app).tier(keystone.residual_tier) >= 1


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_requests_waiting_and_due_filters(client, world):
    login_as(client, world["procurement"])
    assert listed(client, "/requests/?waiting=vendor") == 4
    assert listed(client, "/requests/?waiting=review") == 2
    rows = text(client.get("/requests/?due_within=7")).split("<tbody>")[1]
    assert "Harbor Payroll" in rows and "Keystone Identity" not in rows
    assert listed(client, "/requests/?due_within=0") == 1  # due today


def test_the_incidents_list_filters_by_status(client, world):
    login_as(client, world["officer"])
    assert listed(client, "/incidents/?status=open") == 1
    assert listed(client, "/incidents/?status=closed") == 1
    assert listed(client, "/incidents/") == 2

"""PDF reports, rendered by the real WeasyPrint and read back with pypdf: the demo's identity
provider's assessment says what an auditor needs, the footer's hash is the hash of the data, the
downloads are for staff only and audited, the URL fetcher reaches nothing but static files and
data: URIs (a local server is the canary), and the command line writes the same PDFs."""

from __future__ import annotations

import http.server
import io
import os
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import add, events, free_port, login_as
from conftest import text as page_text
from pypdf import PdfReader

from vendor_risk.core.blast_radius.words import LIST_SHOWN
from vendor_risk.db import db, snapshot, utcnow
from vendor_risk.models import (
    Credential,
    CredentialKind,
    Criticality,
    DataCategory,
    Evidence,
    FindingNote,
    QuestionnaireRequest,
    Role,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    Vendor,
    VendorData,
)
from vendor_risk.reports import data, render
from vendor_risk.reports import diagram as diagrams
from vendor_risk.services import blast_radius, incidents
from vendor_risk.services.demo import IDENTITY_PROVIDER
from vendor_risk.services.portfolio import aggregates as portfolio

WIKI = "Confluence (self-hosted wiki)"
TICKETING = "Jira (self-hosted ticketing)"
SOURCE_CONTROL = "Bitbucket (self-hosted source control)"
THE_FOUR = ("atlassian-automation-token", "svc-worktracker", "svc-bitbucket", "svc-cloud-sandbox")
MANUAL_FINDING = "Credentials we shared in support cases are still stored in Keystone's"
MANUAL_REMEDIATION = "Delete the attachments of our closed support cases and confirm it"


def pdf_pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def squeezed(text: str) -> str:
    """Without any whitespace: a line may wrap anywhere in a narrow column of the PDF."""
    return "".join(text.split())


def contains(haystack: str, needle: str) -> bool:
    return squeezed(needle) in squeezed(haystack)


@pytest.fixture
def demo_app(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def keystone(demo_app) -> int:
    with demo_app.app_context():
        return blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)


def build_assessment(app, vendor_id: int, exported_by: str = "Test exporter"):
    with app.app_context(), snapshot(db.session):
        return data.vendor_assessment(db.session, vendor_id, exported_by=exported_by)


def rendered(app, report) -> render.Rendered:
    with app.app_context():
        return render.render(report)


def staff_client(app, make_user, role: Role):
    client = app.test_client()
    user = make_user(role)
    login_as(client, user)
    return client, user


# ---- the assessment ----------------------------------------------------------------------------


def test_the_assessment_of_the_identity_provider_says_what_an_auditor_needs(demo_app, keystone):
    report = build_assessment(demo_app, keystone)
    result = rendered(demo_app, report)
    pages = pdf_pages(result.pdf)
    whole = "\n".join(pages)

    assert result.pages == len(pages) > 5
    assert pages[0].count(IDENTITY_PROVIDER) >= 1  # the cover
    assert "Page 1 of" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    rating = report.rating
    assert contains(pages[0], f"Tier {rating.effective_tier}")
    assert contains(whole, rating.reasons[0].text)  # the top reason, in words
    assert rating.sections and all(
        contains(whole, f"{s.title} {s.score:.2f}") for s in rating.sections if s.score is not None
    )
    for system in (WIKI, TICKETING, SOURCE_CONTROL):
        assert contains(whole, system)
    credentials = {c.name for c in report.credentials}
    assert set(THE_FOUR) <= credentials
    for name in THE_FOUR:
        assert contains(whole, name)
    # Each credential to rotate says whether a barrier stops its use now.
    assert contains(
        whole,
        "customer-dashboard-support (support access, read) Customer dashboard Head of Support "
        "held by Keystone Identity MFA stops its use now",
    )
    assert contains(whole, "its IP restriction stops its use now")  # terraform-deployer
    assert contains(whole, "usable now: no barrier stops it")
    assert contains(whole, MANUAL_FINDING) and contains(whole, MANUAL_REMEDIATION)
    with demo_app.app_context():
        files = db.session.execute(
            sa.select(Evidence.filename, Evidence.sha256)
            .join(QuestionnaireRequest, QuestionnaireRequest.id == Evidence.request_id)
            .where(QuestionnaireRequest.vendor_id == keystone)
        ).all()
    assert files
    for filename, sha256 in files:
        assert contains(whole, f"Evidence: {filename} · SHA-256 {sha256}")
    # The appendix holds every question of the counted questionnaire, answered or not.
    questions = [a for q in report.questionnaires for s in q.sections for a in s.answers]
    assert len(questions) > 20
    assert contains(whole, questions[-1].question)


def test_without_graphviz_the_assessment_says_where_the_diagram_would_be(
    demo_app, keystone, monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot there: Graphviz is optional
    diagrams.cache_clear()
    whole = "\n".join(pdf_pages(rendered(demo_app, build_assessment(demo_app, keystone)).pdf))
    assert contains(whole, diagrams.NO_GRAPHVIZ)
    for system in (WIKI, TICKETING, SOURCE_CONTROL):  # the lists say the same
        assert contains(whole, system)


def test_the_footer_carries_the_hash_of_the_data_and_the_same_data_gives_the_same_hash(
    demo_app, keystone
):
    first = build_assessment(demo_app, keystone)
    again = build_assessment(demo_app, keystone)
    digest = data.content_digest(first)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert data.content_digest(again) == digest  # read again, later: the same content

    result = rendered(demo_app, first)
    assert result.digest == digest
    pages = pdf_pages(result.pdf)
    for page in pages:  # the footer of every page
        assert f"content SHA-256 {digest[:16]}" in page
    assert digest in squeezed(pages[0]) and digest in squeezed(pages[-1])
    generated = result.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"Generated {generated} (UTC)" in pages[0]

    # Anything the report shows changes the hash: a note on a finding.
    with demo_app.app_context():
        db.session.add(FindingNote(finding_id=first.findings[0].id, body="Attachments deleted."))
        db.session.commit()
    changed = build_assessment(demo_app, keystone)
    assert data.content_digest(changed) != digest


def test_building_the_assessment_reads_the_database_a_bounded_number_of_times(demo_app, keystone):
    """Statements do not grow with answers, credentials or findings: the identity provider
    has hundreds of rows behind its report."""
    statements = []
    with demo_app.app_context():
        engine = db.engine

        def count(*_args):
            statements.append(1)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            with snapshot(db.session):
                report = data.vendor_assessment(db.session, keystone, exported_by="x")
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    answers = sum(len(s.answers) for q in report.questionnaires for s in q.sections)
    assert answers > 50
    # A fixed number per table and per hop of the breach: 32 before issue 14's edges, whose
    # tables (federation, vendor software, zones, fourth parties) the blast radius now reads
    # too, each once per hop at most.
    assert len(statements) < 60, len(statements)


def test_a_vendor_never_assessed_gets_a_valid_pdf_that_says_so_and_hostile_text_stays_text(
    app, make_vendor
):
    canary = Canary()
    try:
        name = f'<img src="{canary.url}name.png"> Fresh & Co'
        vendor_id = make_vendor(
            name,
            services=f'<link rel="stylesheet" href="{canary.url}evil.css">Payroll',
        )
        report = build_assessment(app, vendor_id)
        assert report.rating is None and not report.assessed
        result = rendered(app, report)
    finally:
        canary.stop()
    assert canary.requests == []
    whole = "\n".join(pdf_pages(result.pdf))
    assert contains(whole, name)  # shown as text, never as markup
    assert contains(whole, "has never been assessed")
    assert contains(whole, "Not rated yet")


def test_an_incomplete_rating_says_so_on_the_cover_and_names_what_is_missing(app, make_vendor):
    vendor_id = make_vendor("Blank Critical", criticality=Criticality.critical)
    with app.app_context():
        portfolio.refresh(db.session)
        db.session.commit()
    report = build_assessment(app, vendor_id)
    assert report.rating.missing == (
        "the data it holds",
        "how many records it holds",
        "the access its credentials give",
    )
    pages = pdf_pages(rendered(app, report).pdf)
    # 0.6 x 93.5: every unknown fact at its worst value; version 1 said 11.10, low.
    assert contains(pages[0], "Tier high · residual risk 56.10 of 100 · incomplete")
    assert contains(
        pages[0],
        "neither the inventory nor the intake says the data it holds; how many records it "
        "holds; the access its credentials give",
    )
    whole = "\n".join(pages)
    assert contains(whole, "Incomplete missing: the data it holds")
    assert not contains(pages[0], "Tier low")


def test_a_breach_of_hundreds_of_credentials_lists_the_first_hundred_in_the_assessment(
    app, make_vendor
):
    """Each list of the blast radius in an assessment stops at the tab's first rows and says
    how many there are: a breach reaching every system would fill hundreds of pages; the CSV
    holds every row."""
    vendor_id = make_vendor("Everywhere Support")
    [system_id] = add(app, System(name="Ledger", mfa_required=False))
    add(
        app,
        *(
            Credential(
                name=f"token-{n:03d}",
                kind=CredentialKind.api_token,
                system_id=system_id,
                holder_vendor_id=vendor_id,
            )
            for n in range(LIST_SHOWN + 30)
        ),
    )
    report = build_assessment(app, vendor_id)
    assert report.blast.to_rotate_total == LIST_SHOWN + 30
    listed = [line.credential for line in report.blast.to_rotate]
    assert len(listed) == LIST_SHOWN
    assert listed[0].startswith("token-000 ") and listed[-1].startswith(
        f"token-{LIST_SHOWN - 1:03d} "
    )
    whole = "\n".join(pdf_pages(rendered(app, report).pdf))
    assert contains(whole, f"{LIST_SHOWN + 30} credentials to rotate, still valid")
    assert contains(whole, f"The first {LIST_SHOWN} of {LIST_SHOWN + 30} credentials to rotate.")


def test_a_provisional_rating_is_never_presented_as_the_one_that_counts(demo_app):
    # Nimbus Cloud's answers wait for a risk officer: the PDF gives them as provisional.
    with demo_app.app_context():
        vendor_id = blast_radius.vendor_id_by_name(db.session, "Nimbus Cloud")
    report = build_assessment(demo_app, vendor_id)
    rating = report.rating
    assert rating.control_score is None and rating.provisional_score < rating.residual_score
    pages = pdf_pages(rendered(demo_app, report).pdf)
    assert contains(pages[0], f"residual risk {rating.residual_score:.2f} of 100")
    whole = "\n".join(pages)
    assert contains(
        whole,
        f"Provisional, not counted {rating.provisional_score:.2f} of 100, tier "
        f"{rating.provisional_tier}, once a risk officer accepts the answers awaiting review",
    )
    assert contains(whole, "Control score none yet: no accepted questionnaire counts")
    # Its reasons in residual points, as the Risk tab gives them.
    top = rating.reasons[0]
    assert contains(whole, f"{top.text} ({top.share:.2f} points of the residual score")


# ---- downloads -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.procurement, Role.risk_officer])
def test_staff_download_the_assessment_and_the_export_is_audited(
    demo_app, keystone, make_user, role
):
    client, user = staff_client(demo_app, make_user, role)
    risk_tab = client.get(f"/inventory/vendors/{keystone}/risk").get_data(as_text=True)
    assert f'href="/reports/vendors/{keystone}/assessment.pdf">Download PDF</a>' in risk_tab
    response = client.get(f"/reports/vendors/{keystone}/assessment.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    today = utcnow().date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=keystone-identity-assessment-{today}.pdf"
    )
    assert response.headers["Cache-Control"] == "no-store"
    pages = pdf_pages(response.data)
    assert contains(pages[0], IDENTITY_PROVIDER)

    [event] = events(demo_app, "report.exported")
    assert event.actor == user.email and event.actor_id == user.id
    assert (event.object_type, event.object_id, event.vendor_id) == (
        "vendor",
        str(keystone),
        keystone,
    )
    assert event.details["report"] == "assessment"
    assert event.details["pages"] == len(pages)
    # The hash in the audit trail is the one printed in the file.
    assert f"content SHA-256 {event.details['sha256'][:16]}" in pages[0]
    assert event.details["sha256"] in squeezed(pages[0])


def test_vendor_contacts_and_admins_are_refused_and_unknown_ids_are_404(
    demo_app, keystone, make_user
):
    for role, kwargs in ((Role.vendor_contact, {"vendor_id": keystone}), (Role.admin, {})):
        client = demo_app.test_client()
        login_as(client, make_user(role, **kwargs))
        for url in (
            f"/reports/vendors/{keystone}/assessment.pdf",
            "/reports/portfolio.pdf",
            "/reports/incidents/1/report.pdf",
        ):
            assert client.get(url).status_code == 403, (role, url)
    client, _ = staff_client(demo_app, make_user, Role.risk_officer)
    assert client.get("/reports/vendors/999999/assessment.pdf").status_code == 404
    assert client.get("/reports/vendors/99999999999999/assessment.pdf").status_code == 404
    assert client.get("/reports/incidents/999999/report.pdf").status_code == 404
    assert client.get("/reports/incidents/99999999999999/report.pdf").status_code == 404
    assert events(demo_app, "report.exported") == []


# ---- the URL fetcher ---------------------------------------------------------------------------


class Canary:
    """A local HTTP server that records every request it gets: a report must make none."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body { color: red }")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
    "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def hostile_html(canary_url: str) -> str:
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{canary_url}evil.css">
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="stylesheet" href="../../../../../../etc/passwd">
<link rel="stylesheet" href="css/%2e%2e/%2e%2e/%2e%2e/pyproject.toml">
<link rel="stylesheet" href="css/report.css">
</head><body>
<p>Canary</p>
<img src="{canary_url}pixel.png" alt="remote">
<img src="file:///etc/hostname" alt="local file">
<img src="{PIXEL}" alt="inline">
<img src="favicon.svg" alt="static">
</body></html>"""


def test_the_url_fetcher_reaches_no_server_and_no_file_outside_static(app):
    canary = Canary()
    try:
        # The canary works: WeasyPrint's own fetcher calls it.
        from weasyprint import HTML

        HTML(string=hostile_html(canary.url), base_url=render.BASE_URL).write_pdf()
        assert canary.requests
        canary.requests.clear()

        pdf, pages = render.html_to_pdf(hostile_html(canary.url))
    finally:
        canary.stop()
    assert canary.requests == []
    assert pages == 1 and "Canary" in pdf_pages(pdf)[0]


def test_the_url_fetcher_serves_static_files_and_data_uris_and_refuses_the_rest(tmp_path):
    fetcher = render.StaticOnlyFetcher()
    css = fetcher.fetch(render.BASE_URL + "css/report.css")
    assert css.read() == (render.STATIC_DIR / "css" / "report.css").read_bytes()
    assert css.content_type == "text/css"
    inline = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert inline.read() == b"hello" and inline.content_type == "text/plain"

    refused = [
        "http://127.0.0.1:9/",
        "https://example.com/logo.png",
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "file://evil.example/share/x.css",
        render.BASE_URL + "../pyproject.toml",
        render.BASE_URL + "css/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        render.BASE_URL + "css",  # a folder, not a file
        render.BASE_URL + "css/missing.css",
        "javascript:alert(1)",
    ]
    for url in refused:
        with pytest.raises(render.URLRefused):
            fetcher.fetch(url)

    # A link inside the folder that points out of it is refused too.
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "ok.css").write_text("p {}")
    os.symlink(tmp_path / "secret.txt", root / "link.css")
    local = render.StaticOnlyFetcher(root)
    assert local.fetch((root / "ok.css").as_uri()).read() == b"p {}"
    with pytest.raises(render.URLRefused):
        local.fetch((root / "link.css").as_uri())


# ---- the command line --------------------------------------------------------------------------


def test_the_command_writes_the_assessment_and_refuses_an_unknown_vendor(
    demo_app, keystone, tmp_path
):
    runner = demo_app.test_cli_runner()
    target = tmp_path / "keystone.pdf"
    result = runner.invoke(args=["report", IDENTITY_PROVIDER.lower(), "-o", str(target)])
    assert result.exit_code == 0, result.output
    pages = pdf_pages(target.read_bytes())
    assert f"Written {len(pages)} pages to {target}" in result.output
    assert contains(pages[0], IDENTITY_PROVIDER) and "Page 1 of" in pages[0]
    assert target.stat().st_mode & 0o777 == 0o600
    [event] = events(demo_app, "report.exported")
    assert event.actor.startswith("cli:") and event.actor_id is None
    assert event.vendor_id == keystone and event.details["sha256"] in result.output

    by_id = runner.invoke(args=["report", str(keystone), "-o", str(tmp_path / "by-id.pdf")])
    assert by_id.exit_code == 0, by_id.output

    unknown = runner.invoke(args=["report", "Nobody Inc", "-o", str(tmp_path / "x.pdf")])
    assert unknown.exit_code == 1
    assert "no vendor named 'Nobody Inc'" in unknown.output
    assert not (tmp_path / "x.pdf").exists()
    neither = runner.invoke(args=["report", "-o", str(tmp_path / "x.pdf")])
    assert neither.exit_code == 1 and "name one report" in neither.output
    assert len(events(demo_app, "report.exported")) == 2


# ---- the incident report and the portfolio summary ---------------------------------------------


def test_the_incident_report_and_the_portfolio_summary(demo_app, keystone, make_user, tmp_path):
    client, officer = staff_client(demo_app, make_user, Role.risk_officer)
    started = (utcnow() - timedelta(days=3)).date()
    opened = client.post(
        "/incidents/new",
        data={
            "vendor_id": keystone,
            "title": "Support system breach",
            "started_at": started.isoformat(),
            "detected_at": (started + timedelta(days=1)).isoformat(),
            "notes": "Session tokens taken from support tickets.",
        },
    )
    assert opened.status_code == 302, opened.get_data(as_text=True)
    incident_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    with demo_app.app_context():
        token = db.session.scalar(
            sa.select(Credential.id).where(Credential.name == "atlassian-automation-token")
        )
    assert (
        client.post(
            f"/incidents/{incident_id}/checklist/{token}", data={"action": "rotated"}
        ).status_code
        == 302
    )

    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert f'href="/reports/incidents/{incident_id}/report.pdf">Download PDF</a>' in page
    page = client.get("/inventory/portfolio").get_data(as_text=True)
    assert 'href="/reports/portfolio.pdf">Download PDF</a>' in page
    response = client.get(f"/reports/incidents/{incident_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith(
        f"attachment; filename=keystone-identity-incident-{incident_id}-"
    )
    whole = "\n".join(pdf_pages(response.data))
    with demo_app.app_context():
        report = data.incident_report(db.session, incident_id)
        gap = incidents.gap_size(db.session, incident_id)
    assert report.done == 1 and report.total > 4 and report.gap == gap > 0
    officer_name = officer.email.split("@")[0].title()  # conftest's make_user names them so
    for text in (
        "Support system breach",
        f"Breach began {started.isoformat()}",
        f"1 of {report.total} credentials rotated or revoked",
        f"Rotation gap: {gap}",
        "Incident opened",
        f"atlassian-automation-token rotated {officer_name}",  # the timeline: what, who
        f"rotated {officer_name}",  # the checklist: done, by whom
        "svc-bitbucket",
        "in the gap",
        WIKI,
        SOURCE_CONTROL,
        "Blast radius at the breach start",
    ):
        assert contains(whole, text), text
    [event] = events(demo_app, "report.exported")
    assert (event.object_type, event.object_id) == ("incident", str(incident_id))
    assert event.details["report"] == "incident"

    summary = demo_app.test_cli_runner().invoke(
        args=["report", "--portfolio", "-o", str(tmp_path / "portfolio.pdf")]
    )
    assert summary.exit_code == 0, summary.output
    whole = "\n".join(pdf_pages((tmp_path / "portfolio.pdf").read_bytes()))
    with demo_app.app_context():
        top = portfolio.super_nodes(db.session, limit=1)[0].name
        vendors = db.session.scalar(sa.select(sa.func.count()).select_from(Vendor))
        rated = data.portfolio_report(db.session)
    assert top == IDENTITY_PROVIDER
    for text in (
        "Vendors by residual tier",
        "Vendors with the largest blast radius",
        f"{IDENTITY_PROVIDER} active",
        "Concentration: systems reached by the most vendors",
        SOURCE_CONTROL,
        "Credentials overdue for rotation",
        "Open findings by severity",
        f"Open findings {rated.open_findings_total}",
        "Support system breach Keystone Identity",  # the open incident
    ):
        assert contains(whole, text), text
    assert sum(line.count for line in rated.residual_tiers) <= vendors
    assert rated.open_findings_total > 0
    [event] = [e for e in events(demo_app, "report.exported") if e.object_type == "portfolio"]
    assert event.details["report"] == "portfolio" and event.vendor_id is None


def test_the_demo_incident_stays_open_while_credentials_taken_from_reached_systems_are_pending(
    demo_app, keystone, make_user
):
    """A breach of the identity provider began ten days ago. The session token stolen from a
    support case was revoked before: it is not on the checklist. The six other credentials it
    holds are rotated; the deploy key taken from source control and the deployer credential
    taken from the build pipeline are not: the gap holds those two, the incident cannot close,
    and the page, the checklist, the list and the PDF all say so with the same counts."""
    client, _ = staff_client(demo_app, make_user, Role.procurement)
    started = (utcnow() - timedelta(days=10)).date()
    opened = client.post(
        "/incidents/new",
        data={
            "vendor_id": keystone,
            "title": "Support system breach",
            "started_at": started.isoformat(),
            "detected_at": started.isoformat(),
        },
    )
    assert opened.status_code == 302, opened.get_data(as_text=True)
    incident_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    with demo_app.app_context():
        held = dict(
            db.session.execute(
                sa.select(Credential.name, Credential.id).where(
                    Credential.holder_vendor_id == keystone
                )
            ).all()
        )
    assert len(held) == 7
    revoked = held.pop("har-session-it-admin")
    not_listed = client.post(
        f"/incidents/{incident_id}/checklist/{revoked}", data={"action": "rotated"}
    )
    assert not_listed.status_code == 404  # revoked before the breach: nothing to rotate
    for credential_id in held.values():
        marked = client.post(
            f"/incidents/{incident_id}/checklist/{credential_id}", data={"action": "rotated"}
        )
        assert marked.status_code == 302

    refused = client.post(f"/incidents/{incident_id}/close", data={"exception_reason": ""})
    assert refused.status_code == 400
    assert "2 credentials the attacker obtained are still in the rotation gap" in page_text(refused)

    with demo_app.app_context():
        detail = incidents.incident_detail(db.session, incident_id)
    assert detail.incident.is_open
    assert len(detail.checklist) == 8 and detail.pending == 2
    assert "har-session-it-admin" not in {row.name for row in detail.checklist}
    assert {row.name for row in detail.gap} == {"ci-deploy-key", "terraform-deployer"}

    page = page_text(client.get(f"/incidents/{incident_id}"))
    gap_section = page.split('id="gap-heading"')[1].split('id="checklist"')[0]
    assert "Rotation gap: 2" in gap_section
    assert "ci-deploy-key, opens Build pipeline" in gap_section
    assert "terraform-deployer, opens Production cloud account" in gap_section
    assert page.count('<span class="badge badge-danger">in the gap</span>') == 2
    listing = client.get("/incidents/").get_data(as_text=True)
    assert re.search(r'class="num gap-size"><span[^>]*>2<', listing)

    whole = "\n".join(pdf_pages(client.get(f"/reports/incidents/{incident_id}/report.pdf").data))
    assert contains(whole, "rotation 6 of 8 done, gap 2")  # the cover
    assert contains(whole, "6 of 8 credentials rotated or revoked (75%).")
    assert contains(whole, "Rotation gap: 2 credentials the attacker obtained")
    assert not contains(whole, "the rotation gap is empty")
    for name in ("ci-deploy-key", "terraform-deployer"):
        assert contains(whole, name)
    assert squeezed(whole).count("inthegap") == 2  # the checklist's badges


def test_records_by_source_and_a_subprocessors_breach_in_the_command_the_tab_and_the_pdf(
    app, make_user
):
    """Acme Billing holds 120,000 customer records; its token opens a database holding 2.1
    million: 2,220,000 records, each source with its own path. A cloud host holding nothing of
    ours but what Acme passes on to it is not "0 data categories" at the top."""
    [customers] = add(app, DataCategory(name="customer records", sensitivity="critical"))
    [acme, cloud, database] = add(
        app, Vendor(name="Acme Billing"), Vendor(name="Cloud host"), System(name="Customer DB")
    )
    [link] = add(app, SubprocessorLink(vendor_id=acme, subprocessor_id=cloud))
    add(
        app,
        VendorData(vendor_id=acme, data_category_id=customers, records=120_000),
        SystemData(system_id=database, data_category_id=customers, records=2_100_000),
        SubprocessorData(link_id=link, data_category_id=customers),
        Credential(name="db-token", kind="api_token", holder_vendor_id=acme, system_id=database),
    )
    direct = "120,000 records, held by Acme Billing directly: Acme Billing holds customer records"
    through = (
        "2,100,000 records, in Customer DB: Acme Billing holds db-token (access token, read)"
        " -> opens Customer DB -> holds customer records"
    )
    headline = "including through subprocessors: 1 data category (120,000 records)"

    runner = app.test_cli_runner()
    words = runner.invoke(args=["blast-radius", "Acme Billing"]).output
    assert (
        f"customer records (critical, 2,220,000 records):\n    {direct}\n    {through}\n" in words
    )
    words = runner.invoke(args=["blast-radius", "Cloud host"]).output
    assert (
        f"Reached despite controls: 0 systems, 1 data category (120,000 records), {headline}"
        in (words)
    )
    assert "Acme Billing passes customer records (120,000 records) to Cloud host" in words

    client, _ = staff_client(app, make_user, Role.risk_officer)
    tab = page_text(client.get(f"/inventory/vendors/{acme}/blast-radius"))
    assert "2,220,000" in tab and f"<li>{direct}</li><li>{through}</li>" in tab
    tab = " ".join(page_text(client.get(f"/inventory/vendors/{cloud}/blast-radius")).split())
    assert (
        "reaches <strong>0 systems</strong> and <strong>1 data category</strong> "
        f"(120,000 records) despite the controls, {headline}," in tab
    )

    whole = "\n".join(pdf_pages(rendered(app, build_assessment(app, acme)).pdf))
    assert contains(whole, f"customer records critical 2,220,000 {direct}")
    assert contains(whole, through)
    whole = "\n".join(pdf_pages(rendered(app, build_assessment(app, cloud)).pdf))
    assert contains(whole, "reaches 0 systems and 1 data category (120,000 records) despite")
    assert contains(whole, headline)


def test_a_credential_rotated_since_the_breach_began_is_a_barrier_not_a_line_to_rotate(
    demo_app, keystone, make_user
):
    """The breach began 45 days ago; the admin console login was rotated 30 days ago: the
    attacker's copy is stale. The incident's page and PDF show it under the barriers that held,
    and its checklist (the list to rotate) leaves it out."""
    client, _ = staff_client(demo_app, make_user, Role.risk_officer)
    started = (utcnow() - timedelta(days=45)).date()
    opened = client.post(
        "/incidents/new",
        data={
            "vendor_id": keystone,
            "title": "Support system breach",
            "started_at": started.isoformat(),
            "detected_at": started.isoformat(),
        },
    )
    assert opened.status_code == 302, opened.get_data(as_text=True)
    incident_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    barrier = (
        "idp-admin-console (SSO admin, admin) into Identity provider tenant: "
        "rotated after the breach began"
    )

    page = page_text(client.get(f"/incidents/{incident_id}"))
    checklist = page.split('id="checklist"')[1].split('id="timeline"')[0]
    assert "idp-admin-console" not in checklist and "customer-dashboard-support" in checklist
    held = page.split("Barriers that held")[1]
    assert barrier.replace(": ", ": <strong>") + "</strong>" in held

    whole = "\n".join(pdf_pages(client.get(f"/reports/incidents/{incident_id}/report.pdf").data))
    checklist = whole.split("Rotation checklist")[1].split("Timeline")[0]
    assert not contains(checklist, "idp-admin-console")
    assert contains(checklist, "customer-dashboard-support")
    assert contains(whole.split("Barriers that held")[1], barrier)
    assert contains(whole, "what to rotate is the rotation checklist")

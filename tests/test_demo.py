"""The demo inventory tells the 2023 story: a breach of the identity provider reaches the wiki,
ticketing and source control through four machine credentials; MFA stops the credentials it
guards, and the session token stolen from a support case was revoked before the breach began,
so the identity provider's tenant holds (were it not revoked, the session would sign in there,
and the systems trusting it for sign-in would follow). Its questionnaires tell it too: the
identity provider's answers on support tokens cap its score."""

import json
from datetime import timedelta

import conftest
import pytest
import sqlalchemy as sa
from conftest import login_as, text

from vendor_risk.core.scoring.control import CRITICAL_CAP
from vendor_risk.db import db, utcnow
from vendor_risk.models import Role, User, Vendor
from vendor_risk.services import blast_radius
from vendor_risk.services.assessments import scoring
from vendor_risk.services.demo import IDENTITY_PROVIDER, VENDOR_CONTACT

WIKI = "Confluence (self-hosted wiki)"
TICKETING = "Jira (self-hosted ticketing)"
SOURCE_CONTROL = "Bitbucket (self-hosted source control)"
THE_FOUR = {"atlassian-automation-token", "svc-worktracker", "svc-bitbucket", "svc-cloud-sandbox"}
IDP_TENANT = "Identity provider tenant"
SESSION = "har-session-it-admin"


@pytest.fixture
def demo_app(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def breach(demo_app):
    with demo_app.app_context():
        vendor_id = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
        return blast_radius.vendor_blast_radius(db.session, [vendor_id])


def test_breach_of_the_identity_provider_reaches_wiki_ticketing_and_source_control(breach):
    first_hop = {r.system.name: r for r in breach.despite_controls.systems if r.path.hops == 2}
    assert {WIKI, TICKETING, SOURCE_CONTROL} <= set(first_hop)
    assert IDP_TENANT not in first_hop  # its attempts were denied
    used = {c.name for r in first_hop.values() for c in r.credentials}
    assert used == THE_FOUR
    for reached in first_hop.values():
        assert all(not c.interactive for c in reached.credentials)  # machine credentials
    assert first_hop[SOURCE_CONTROL].path.text == (
        f"{IDENTITY_PROVIDER} holds svc-bitbucket (service account, admin)"
        f" -> opens {SOURCE_CONTROL}"
    )


def test_mfa_stops_the_attacker_where_the_story_says(breach):
    held = {b.credential.name: (b.system.name, b.barrier) for b in breach.barriers_held}
    assert held["idp-admin-console"] == (IDP_TENANT, "phishing_resistant_mfa")
    assert held["customer-dashboard-support"] == ("Customer dashboard", "mfa")
    reached = {r.system.name: r for r in breach.despite_controls.systems}
    assert not {"Customer dashboard", IDP_TENANT} & set(reached)
    if_failed = {r.system.name: r for r in breach.if_controls_fail.systems}
    assert {IDP_TENANT, "Customer dashboard"} <= set(if_failed)
    # The session token from a HAR file carries its sign-in's MFA, but it was revoked when the
    # session hijack was detected, before the breach began: the tenant held. If the controls
    # fail (revocation included), the session signs in there as an administrator.
    assert held[SESSION] == (IDP_TENANT, "revoked")
    assert if_failed[IDP_TENANT].path.text in {
        f"{IDENTITY_PROVIDER} holds {name} ({kind}, admin) -> opens {IDP_TENANT}"
        for name, kind in ((SESSION, "session token"), ("idp-admin-console", "SSO admin"))
    }
    assert {SESSION, "idp-admin-console"} == {c.name for c in if_failed[IDP_TENANT].credentials}


def test_the_revoked_session_token_says_when_it_was_revoked(demo_app):
    """The inventory keeps no revocation date: the demo writes it in the credential's notes,
    before the breach began (45 days ago), and its last use no later."""
    from vendor_risk.models import Credential

    with demo_app.app_context():
        session_token = db.session.scalar(sa.select(Credential).where(Credential.name == SESSION))
        assert session_token.status == "revoked"
        revoked_on = (utcnow() - timedelta(days=75)).date()
        assert session_token.notes.startswith(f"Revoked on {revoked_on.isoformat()}: ")
        assert "session hijack was detected" in session_token.notes
        assert session_token.last_used_at.date() == revoked_on
        assert revoked_on < (utcnow() - timedelta(days=45)).date()


def test_the_systems_trusting_the_identity_provider_hold_where_they_ask_their_own_mfa(breach):
    """The identity provider held (its session token revoked): no system is reached through
    sign-in with it, and no federation is a link tried. If the controls fail, an administrator
    signed in there is trusted by the wiki, ticketing and the systems asking their own MFA."""
    reached = {r.system.name: r for r in breach.despite_controls.systems}
    assert all("trusted by" not in r.path.text for r in reached.values())
    assert {WIKI, TICKETING} <= set(reached)  # through the token and the service account
    assert not [h for h in breach.links_held if h.edge == "trusted by"]
    trusting_with_mfa = {"CRM", "HR system", "Corporate e-mail"}
    assert not trusting_with_mfa & set(reached)
    if_failed = {r.system.name: r for r in breach.if_controls_fail.systems}
    assert if_failed["HR system"].path.text.endswith(
        f"-> opens {IDP_TENANT} -> trusted by HR system for sign-in"
    )


def test_lateral_movement_and_the_rotation_list(breach):
    build = next(r for r in breach.despite_controls.systems if r.system.name == "Build pipeline")
    assert "stores ci-deploy-key" in build.path.text
    to_rotate = {item.credential.name for item in breach.credentials_to_rotate}
    assert THE_FOUR | {"ci-deploy-key", "idp-admin-console"} <= to_rotate
    assert "crm-export-token" not in to_rotate  # revoked already
    assert SESSION not in to_rotate  # revoked before the breach
    assert len(to_rotate) == 8


def test_blast_radius_command(demo_app):
    runner = demo_app.test_cli_runner()
    text = runner.invoke(args=["blast-radius", IDENTITY_PROVIDER.lower()])
    assert text.exit_code == 0, text.output
    assert "Reached despite controls: 5 systems, 7 data categories (477,440 records)" in (
        text.output
    )
    assert "Reached if controls fail: 15 systems" in text.output
    held = text.output.split("Barriers that held:")[1].split("Credentials to rotate")[0]
    assert (
        "idp-admin-console (SSO admin, admin) -> Identity provider tenant: phishing-resistant MFA"
        in held
    )
    assert f"{SESSION} (session token, admin) -> Identity provider tenant: revoked" in held
    assert "HR records (high, 3,000 records)" in text.output  # held directly, none via the tenant
    as_json = runner.invoke(args=["blast-radius", IDENTITY_PROVIDER, "--json"])
    document = json.loads(as_json.output)
    assert document["schema_version"] == 3
    assert document["figures"]["systems_despite_controls"] == 5
    unknown = runner.invoke(args=["blast-radius", "Nobody Inc"])
    assert unknown.exit_code == 2 and "no vendor named 'Nobody Inc'" in unknown.output


def test_breach_start_makes_rotated_credentials_stale(demo_app):
    """Starting far back, most credentials were rotated since: their stolen copies are stale."""
    result = demo_app.test_cli_runner().invoke(
        args=["blast-radius", IDENTITY_PROVIDER, "--since", "2020-01-01", "--json"]
    )
    document = json.loads(result.output)
    assert document["since"].startswith("2020-01-01")
    reached = {s["name"] for s in document["despite_controls"]["systems"]}
    # Only what was never rotated still works for an attacker who stole it in 2020: the wiki's
    # token. The session token into the identity provider was never rotated either, but it is
    # revoked: ticketing, which trusts the identity provider for sign-in with no MFA of its own,
    # is not reached through it.
    assert reached == {WIKI}
    held = {b["credential"]["name"]: b["barrier"] for b in document["barriers_held"]}
    assert held[SESSION] == "revoked" and held["svc-worktracker"] == "rotated"


def test_blast_radius_tab_explains_the_breach(demo_app, make_user):
    from conftest import login_as

    from vendor_risk.models import Role

    client = demo_app.test_client()
    login_as(client, make_user(Role.risk_officer))
    with demo_app.app_context():
        vendor_id = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
    page = client.get(f"/inventory/vendors/{vendor_id}/blast-radius")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "reaches <strong>5 systems</strong>" in text
    assert f"{IDENTITY_PROVIDER} holds svc-bitbucket (service account, admin) -&gt; opens" in text
    assert "idp-admin-console (SSO admin, admin) into Identity provider tenant" in text
    assert "phishing-resistant MFA" in text
    assert f"{SESSION} (session token, admin) into Identity provider tenant" in text
    assert "Reached only if the controls fail" in text

    drill = client.get(f"/inventory/vendors/{vendor_id}/blast-radius?since=2020-01-01")
    drilled = drill.get_data(as_text=True)
    assert "reaches <strong>1 system</strong>" in drilled
    despite = drilled.split("Reached only if the controls fail")[0]
    assert f"trusted by {TICKETING} for sign-in" not in despite
    bad = client.get(f"/inventory/vendors/{vendor_id}/blast-radius?since=not-a-date")
    assert bad.status_code == 400
    assert "Not a valid date value." in bad.get_data(as_text=True)


def test_a_credential_rotated_since_the_breach_began_is_a_barrier_not_one_to_rotate(
    demo_app, make_user
):
    """The identity provider's admin console login was rotated 30 days ago, and the deploy
    credential stored in the build pipeline 20 days ago, after a breach that began 45 days ago:
    the attacker's copies are stale. They are barriers that held, and not on the list to
    rotate, in the command, its JSON and the vendor's tab; the dashboard login, rotated before
    the breach, stays on the list, saying that MFA stops its use now. The session token,
    revoked before the breach began, is a barrier that held and not on the list either."""
    since = (utcnow() - timedelta(days=45)).date().isoformat()
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["blast-radius", IDENTITY_PROVIDER, "--since", since])
    assert result.exit_code == 0, result.output
    held, to_rotate = result.output.split("Barriers that held:")[1].split("Credentials to rotate")
    assert (
        "idp-admin-console (SSO admin, admin) -> Identity provider tenant: "
        "rotated after the breach began" in held
    )
    assert (
        "terraform-deployer (service account, admin) -> Production cloud account: "
        "rotated after the breach began" in held
    )
    assert f"{SESSION} (session token, admin) -> Identity provider tenant: revoked" in held
    assert "idp-admin-console" not in to_rotate and "terraform-deployer" not in to_rotate
    assert SESSION not in to_rotate
    assert to_rotate.startswith(" (6), still valid in the attacker's hands:")
    assert (
        "customer-dashboard-support (support access, read), opens Customer dashboard, owner "
        "Head of Support: held by Keystone Identity; MFA stops its use now" in to_rotate
    )
    assert (
        "ci-deploy-key (SSH key, write), opens Build pipeline, owner Platform: stored in "
        "Bitbucket (self-hosted source control); usable now: no barrier stops it" in to_rotate
    )

    document = json.loads(
        runner.invoke(args=["blast-radius", IDENTITY_PROVIDER, "--since", since, "--json"]).output
    )
    barriers = {b["credential"]["name"]: b["barrier"] for b in document["barriers_held"]}
    assert barriers["idp-admin-console"] == barriers["terraform-deployer"] == "rotated"
    assert barriers[SESSION] == "revoked"
    stopped = {c["name"]: c["stopped_by"] for c in document["credentials_to_rotate"]}
    assert "idp-admin-console" not in stopped and "terraform-deployer" not in stopped
    assert stopped["customer-dashboard-support"] == "mfa"
    assert stopped["svc-bitbucket"] is None
    assert SESSION not in stopped  # revoked before the breach began
    assert document["figures"]["credentials_to_rotate"] == len(stopped) == 6

    client = demo_app.test_client()
    login_as(client, make_user(Role.risk_officer))
    with demo_app.app_context():
        vendor_id = blast_radius.vendor_id_by_name(db.session, IDENTITY_PROVIDER)
    tab = text(client.get(f"/inventory/vendors/{vendor_id}/blast-radius?since={since}"))
    held, to_rotate = tab.split("Barriers that held")[1].split("Credentials to rotate", 1)
    assert (
        "idp-admin-console (SSO admin, admin) into Identity provider tenant: "
        "<strong>rotated after the breach began</strong>" in held
    )
    assert f"{SESSION} (session token, admin) into Identity provider tenant: " in held
    assert "idp-admin-console" not in to_rotate and "terraform-deployer" not in to_rotate
    assert SESSION not in to_rotate
    assert "6 credentials to rotate: still valid in the attacker's hands" in tab
    assert "customer-dashboard-support" in to_rotate and "MFA stops its use now" in to_rotate
    assert "usable now: no barrier stops it" in to_rotate


def test_reading_only_the_reachable_part_gives_the_same_result_as_the_whole_inventory(demo_app):
    from datetime import UTC, datetime

    from vendor_risk.core.blast_radius import engine

    as_of, since = datetime(2026, 11, 28, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC)
    with demo_app.app_context():
        whole = blast_radius.load_inventory(db.session)
        vendor_ids = list(whole.vendors)
        assert len(vendor_ids) == 13
        for vendor_id in vendor_ids:
            part = blast_radius.load_reachable(db.session, [vendor_id])
            assert len(part.credentials) <= len(whole.credentials)
            for moment in (None, since):
                expected = engine.compute(whole, [vendor_id], as_of=as_of, since=moment)
                got = engine.compute(part, [vendor_id], as_of=as_of, since=moment)
                assert got.to_dict() == expected.to_dict(), whole.vendors[vendor_id].name
        both = vendor_ids[:3]
        assert (
            engine.compute(
                blast_radius.load_reachable(db.session, both), both, as_of=as_of
            ).to_dict()
            == engine.compute(whole, both, as_of=as_of).to_dict()
        )


# ---- the questionnaires ------------------------------------------------------------------------

HAR_QUESTION = "What happens to session tokens, cookies and credentials inside those files"
TICKET_MFA_QUESTION = "Is MFA enforced for every account that can sign in to your support"


def vendor_ids(app, *names: str) -> list[int]:
    with app.app_context():
        found = dict(db.session.execute(sa.select(Vendor.name, Vendor.id)).all())
    return [found[name] for name in names]


@pytest.fixture
def officer_client(demo_app, make_user):
    client = demo_app.test_client()
    login_as(client, make_user(Role.risk_officer))
    return client


def test_the_identity_providers_support_answers_cap_its_control_score(demo_app, officer_client):
    [vendor_id] = vendor_ids(demo_app, IDENTITY_PROVIDER)
    risk = text(officer_client.get(f"/inventory/vendors/{vendor_id}/risk"))
    assert f"Control score: {CRITICAL_CAP:.2f}" in risk
    failing = risk.split('id="critical-failures"')[1]
    assert HAR_QUESTION in failing and TICKET_MFA_QUESTION in failing
    with demo_app.app_context():
        _, score = scoring.rating_of(db.session, vendor_id)
        assert scoring.explain(score)["control"]["uncapped"] > 80  # good answers everywhere else
        assert score.residual_tier in {"high", "critical"}

    listed = text(officer_client.get(f"/findings/?vendor_id={vendor_id}&status=open"))
    assert "Session tokens in customer uploads are kept" in listed
    assert "Support ticketing system reachable without MFA" in listed
    assert HAR_QUESTION in listed  # the critical question's own finding
    assert "still stored in Keystone's support system" in listed  # the risk officer's


def test_the_other_vendors_stand_at_each_step_of_the_review(demo_app, officer_client):
    strong, weak, documented = vendor_ids(demo_app, "MailRelay", "SupportDesk", "Nimbus Cloud")
    page = text(officer_client.get("/review/"))
    queue = page.split('id="queue"')[1].split('id="returned"')[0]
    assert "Nimbus Cloud" in queue and IDENTITY_PROVIDER not in queue  # the latter accepted
    returned = page.split('id="returned"')[1]
    assert "SupportDesk" in returned and "MailRelay" not in page

    with demo_app.app_context():
        ratings = {v: scoring.rating_of(db.session, v)[0] for v in (strong, weak, documented)}
        next_review = db.session.get(Vendor, strong).next_review
    assert ratings[strong].residual_tier == "low"
    # Returned for clarification, and waiting for review: the answers are provisional. The
    # rating that counts has no control score; the provisional one shows what they would do.
    for pending in (weak, documented):
        assert ratings[pending].control_score is None
        assert ratings[pending].provisional_score < ratings[pending].residual_score
    assert ratings[weak].residual_tier != "low" and ratings[weak].provisional_tier == "high"
    risk = text(officer_client.get(f"/inventory/vendors/{strong}/risk"))
    decisions = risk.split('id="decisions"')[1]
    assert "approved" in decisions and next_review.isoformat() in decisions
    assert next_review > utcnow().date()

    accepted = text(officer_client.get(f"/findings/?vendor_id={documented}&status=accepted"))
    assert "MFA has exceptions" in accepted


def test_the_identity_providers_rating_is_one_explanation_with_each_reason_once(
    demo_app, officer_client
):
    # "What drives it" and "How the score adds up" give every line the same points; the
    # intake declared two factors at their worst, each named for its own factor.
    from test_rating_pages import explanation_shown, reasons_shown

    [vendor_id] = vendor_ids(demo_app, IDENTITY_PROVIDER)
    page = officer_client.get(f"/inventory/vendors/{vendor_id}/risk")
    reasons = reasons_shown(page)
    explained = explanation_shown(page)
    assert len(reasons) == 5
    texts = [reason for reason, _, _ in reasons]
    assert len(set(texts)) == len(texts)
    for reason, share, points in reasons:
        assert explained[reason] == (points, share), reason
    assert "most sensitive data held: declared in the intake (100% of its points)" in texts
    assert "strongest access held: declared in the intake (100% of its points)" in texts
    cap = next(t for t in texts if t.startswith("capped at 40"))
    assert explained[cap][1] > 0 > explained[cap][0]  # the cap gives back what it removed


def test_the_demo_names_what_its_incomplete_ratings_miss(demo_app, officer_client):
    page = text(officer_client.get("/inventory/vendors?rating=incomplete"))
    # BuildRight holds no data of ours on record, SignSure's access is not recorded: neither
    # has an intake to say "none".
    assert "BuildRight CI" in page and "SignSure" in page
    assert "missing: the data it holds; how many records it holds" in page
    assert IDENTITY_PROVIDER not in page


def test_the_returned_request_asks_the_vendor_a_clarification(demo_app, officer_client):
    page = officer_client.get("/review/").get_data(as_text=True)
    returned = page.split('id="returned"')[1]
    request_path = returned.split('href="/review/')[1].split('"')[0]
    detail = text(officer_client.get(f"/review/{request_path}"))
    assert "Will you strip them on upload, and by when?" in detail


def test_the_demo_vendor_contact_sees_its_vendors_requests_in_the_portal(demo_app):
    with demo_app.app_context():
        contact = db.session.scalar(sa.select(User).where(User.email == VENDOR_CONTACT))
        contact.totp_secret, contact.totp_confirmed_at = "JBSWY3DPEHPK3PXP", utcnow()
        db.session.commit()
        user = conftest.TestUser(
            contact.id, contact.email, contact.role, vendor_id=contact.vendor_id
        )
    client = demo_app.test_client()
    login_as(client, user)
    home = text(client.get("/portal/"))
    assert f"<h1>{IDENTITY_PROVIDER}</h1>" in home
    assert "Baseline security" in home and "Credentials you hold for us" in home
    assert "Fill in" in home  # the credentials questionnaire, half answered
    assert "Session tokens in customer uploads are kept" in home  # a finding to remediate


def test_the_other_ways_in_saas_vendor_software_networks(demo_app):
    """Pipeline CRM runs our CRM: its breach exposes the CRM's data and the billing token kept
    in it, which opens the finance ledger, whose network the payment terminals accept with no
    sign-in. StatusWatch's agent runs as admin on the build pipeline with automatic updates;
    BuildRight's runner there takes approved updates only: a barrier despite the controls."""
    with demo_app.app_context():
        ids = dict(db.session.execute(sa.select(Vendor.name, Vendor.id)).all())

        def breach(name):
            return blast_radius.vendor_blast_radius(db.session, [ids[name]])

        crm = breach("Pipeline CRM")
        paths = {r.system.name: r.path.text for r in crm.despite_controls.systems}
        assert paths["CRM"] == "Pipeline CRM operates CRM"
        assert paths["Finance ledger"] == (
            "Pipeline CRM operates CRM -> stores crm-billing-sync (access token, write)"
            " -> opens Finance ledger"
        )
        assert paths["Payment terminals"].endswith(
            "-> can connect to Payment terminals (zone Corporate network, no sign-in needed)"
        )
        rotate = {
            i.credential.name: [s.name for s in i.stored_in] for i in crm.credentials_to_rotate
        }
        assert rotate["crm-billing-sync"] == ["CRM"]
        # The VPN wants its own sign-in: reached from the ledger's network only if controls fail.
        assert "VPN" not in paths
        assert "VPN" in {r.system.name for r in crm.if_controls_fail.systems}

        agent = breach("StatusWatch")
        paths = {r.system.name: r.path.text for r in agent.despite_controls.systems}
        assert paths["Build pipeline"] == (
            "Build pipeline runs software supplied by StatusWatch (StatusWatch monitoring agent,"
            " admin, updates applied automatically)"
        )
        rotate = {i.credential.name for i in agent.credentials_to_rotate}
        assert "terraform-deployer" in rotate  # stored in the build pipeline

        runner = breach("BuildRight CI")
        assert "Build pipeline" not in {r.system.name for r in runner.despite_controls.systems}
        held = {(h.edge, h.system.name, h.barrier) for h in runner.links_held}
        assert ("runs software supplied by", "Build pipeline", "update_approval") in held
        assert "Build pipeline" in {r.system.name for r in runner.if_controls_fail.systems}


def test_the_fourth_parties_carry_their_records(demo_app):
    with demo_app.app_context():
        from vendor_risk.models import FourthParty

        party = db.session.scalar(sa.select(FourthParty).where(FourthParty.name == "Transcribo"))
        result = blast_radius.vendor_blast_radius(db.session, [], fourth_party_ids=[party.id])
    [exposure] = result.fourth_party_exposure
    assert exposure.vendor.name == "SupportDesk"
    passed = {p.category.name: p.records for p in exposure.passed_on}
    assert passed == {"Support tickets": 60_000, "Customer PII": 60_000}

"""The blast-radius model of issue 14 on hand-built graphs, one per rule: single sign-on
federation, systems operated by a vendor, vendor software we run, network zones and named fourth
parties with their records. Each checks the reached sets in both views, the explained paths, the
rotation list, and that the portfolio's counts follow the same edges as ``compute``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from vendor_risk.core.blast_radius.engine import (
    CONNECTS,
    SUPPLIES,
    TRUSTED_BY,
    Credential,
    DataCategory,
    Federation,
    FourthParty,
    Holding,
    Inventory,
    LinkHeld,
    NetworkZone,
    SoftwareSupply,
    Step,
    SubprocessorLink,
    System,
    Vendor,
    compute,
    concentration,
    fourth_party_concentration,
    reach_counts_for_all_vendors,
)
from vendor_risk.core.blast_radius.words import render_text

AS_OF = datetime(2023, 11, 14, tzinfo=UTC)
PII = DataCategory(1, "customer PII", 4)
DOCS = DataCategory(2, "internal docs", 2)
CARDS = DataCategory(3, "card data", 4)
CATEGORIES = (PII, DOCS, CARDS)

IDP, WIKI, VAULT, CRM, BILLING, BUILD, PROD = 1, 2, 3, 4, 5, 6, 7
SYSTEM_NAMES = {
    IDP: "Identity provider",
    WIKI: "Wiki",
    VAULT: "Vault",
    CRM: "CRM",
    BILLING: "Billing",
    BUILD: "Build server",
    PROD: "Production",
}


def cred(id: int, system_id: int, holder: int | None = 1, **fields) -> Credential:
    """A machine credential (a service account) with no barrier unless told otherwise."""
    defaults = {"name": f"cred-{id}", "kind": "service_account", "privilege": "read"}
    return Credential(id=id, system_id=system_id, holder_vendor_id=holder, **defaults | fields)


def systems(**fields_by_id) -> list[System]:
    return [
        System(system_id, name, **fields_by_id.get(f"s{system_id}", {}))
        for system_id, name in SYSTEM_NAMES.items()
    ]


def build(*credentials: Credential, vendor: str = "Acme", **inventory) -> Inventory:
    inventory.setdefault("systems", systems())
    inventory.setdefault("vendors", [Vendor(1, vendor), Vendor(2, "Other")])
    return Inventory.build(credentials=credentials, categories=CATEGORIES, **inventory)


def breach(inv: Inventory, vendor_id: int = 1):
    result = compute(inv, [vendor_id], as_of=AS_OF)
    assert_portfolio_agrees(inv)
    json.dumps(result.to_dict())
    render_text(result)
    return result


def names(reach) -> set[str]:
    return {reached.system.name for reached in reach.systems}


def reached(reach, name: str):
    return next(r for r in reach.systems if r.system.name == name)


def to_rotate(result) -> dict[str, str]:
    return {item.credential.name: item.reason for item in result.credentials_to_rotate}


def assert_portfolio_agrees(inv: Inventory) -> None:
    """The portfolio's counts follow the new edges exactly as compute does."""
    counts = reach_counts_for_all_vendors(inv, as_of=AS_OF)
    reached_by: dict[int, list[tuple[frozenset[int], frozenset[int]]]] = {}
    for vendor_id in inv.vendors:
        result = compute(inv, [vendor_id], as_of=AS_OF)
        figures = result.figures
        assert counts[vendor_id] == (
            figures.systems_despite_controls,
            figures.systems_if_controls_fail,
            figures.categories_despite_controls,
        )
        reached_by[vendor_id] = [
            (result.despite_controls.system_ids, result.if_controls_fail.system_ids)
        ]
    for system_id, (despite, if_fail) in concentration(inv, as_of=AS_OF).items():
        assert despite == sum(system_id in d for [(d, _)] in reached_by.values())
        assert if_fail == sum(system_id in f for [(_, f)] in reached_by.values())


# --- Single sign-on ---------------------------------------------------------------------------


def federation_inventory(mfa_enforced: bool, *credentials: Credential) -> Inventory:
    return build(
        *credentials,
        # Wiki keeps a token to Production: whoever signs in to Wiki has it.
        cred(9, PROD, holder=None, name="prod-token", kind="api_token", stored_in=(WIKI,)),
        vendor="Keystone",
        systems=systems(s2={"holdings": (Holding(DOCS.id, 40),)}),
        federations=[Federation(IDP, WIKI, privilege="write", mfa_enforced=mfa_enforced)],
    )


IDP_ADMIN = cred(1, IDP, name="idp-admin", kind="sso_admin", privilege="admin")


def test_an_admin_at_the_identity_provider_signs_in_to_the_systems_that_trust_it():
    result = breach(federation_inventory(False, IDP_ADMIN))
    despite = result.despite_controls
    assert (
        names(despite)
        == names(result.if_controls_fail)
        == {
            "Identity provider",
            "Wiki",
            "Production",
        }
    )
    wiki = reached(despite, "Wiki")
    assert (wiki.privilege, wiki.hops, wiki.via, wiki.edge) == ("write", 3, None, TRUSTED_BY)
    assert wiki.path_text == (
        "Keystone holds idp-admin (SSO admin, admin) -> opens Identity provider"
        " -> trusted by Wiki for sign-in"
    )
    assert reached(despite, "Production").path_text == (
        "Keystone holds idp-admin (SSO admin, admin) -> opens Identity provider"
        " -> trusted by Wiki for sign-in -> stores prod-token (access token, read)"
        " -> opens Production"
    )
    [docs] = despite.data
    assert docs.sources[0].path_text == wiki.path_text + " -> holds internal docs"
    assert docs.records == 40
    assert to_rotate(result) == {"idp-admin": "held by Keystone", "prod-token": "stored in Wiki"}
    assert result.links_held == ()
    via = next(s for s in result.to_dict()["despite_controls"]["systems"] if s["name"] == "Wiki")
    assert via["via"] == {
        "link": {"kind": "federation", "privilege": "write", "mfa_enforced": False},
        "from": {"kind": "system", "id": IDP, "name": "Identity provider"},
    }


def test_the_applications_own_mfa_stops_federation_despite_controls_only():
    result = breach(federation_inventory(True, IDP_ADMIN))
    assert names(result.despite_controls) == {"Identity provider"}
    assert names(result.if_controls_fail) == {"Identity provider", "Wiki", "Production"}
    [held] = result.links_held
    assert held == LinkHeld(
        TRUSTED_BY, Step("system", IDP, "Identity provider"), held.system, "mfa"
    )
    assert held.system.name == "Wiki"
    assert result.figures.links_held == 1
    # Wiki is not reached despite the controls: the token it stores is not stolen.
    assert to_rotate(result) == {"idp-admin": "held by Keystone"}
    assert reached(result.if_controls_fail, "Wiki").path_text.endswith(
        "-> opens Identity provider -> trusted by Wiki for sign-in"
    )
    assert "Wiki trusts Identity provider for sign-in: its own MFA" in render_text(result)


def test_a_stolen_session_token_is_past_mfa_and_signs_in():
    session = cred(
        1,
        IDP,
        name="har-session",
        kind="session_token",
        interactive=True,
        mfa_enforced=True,
        phishing_resistant_mfa=True,
    )
    inv = federation_inventory(False, session)
    inv = build(
        session,
        vendor="Keystone",
        systems=systems(s1={"mfa_required": True}),
        federations=inv.federations,
    )
    result = breach(inv)
    assert names(result.despite_controls) == {"Identity provider", "Wiki"}
    assert reached(result.despite_controls, "Wiki").path_text == (
        "Keystone holds har-session (session token, read) -> opens Identity provider"
        " -> trusted by Wiki for sign-in"
    )
    assert result.barriers_held == ()
    [item] = result.credentials_to_rotate
    assert item.stopped_by is None  # usable now: no MFA prompt stops a stolen session


def test_an_interactive_credential_stopped_by_mfa_at_the_identity_provider_stops_there():
    admin = cred(1, IDP, name="idp-login", kind="user_account", privilege="admin", interactive=True)
    inv = build(
        admin,
        vendor="Keystone",
        systems=systems(s1={"mfa_required": True}),
        federations=[Federation(IDP, WIKI, privilege="write")],
    )
    result = breach(inv)
    assert names(result.despite_controls) == set()
    assert names(result.if_controls_fail) == {"Identity provider", "Wiki"}
    assert {h.credential.name: h.barrier for h in result.barriers_held} == {"idp-login": "mfa"}
    assert [(i.credential.name, i.stopped_by) for i in result.credentials_to_rotate] == [
        ("idp-login", "mfa")
    ]


def test_a_session_that_cannot_sign_in_reaches_the_identity_provider_alone():
    inv = build(
        cred(1, IDP, name="idp-read", privilege="read"),
        federations=[Federation(IDP, WIKI)],
    )
    result = breach(inv)
    assert names(result.despite_controls) == names(result.if_controls_fail) == {"Identity provider"}


def test_an_identity_provider_reached_first_without_a_session_signs_in_by_the_later_path():
    inv = build(
        cred(1, IDP, name="idp-read"),
        cred(2, VAULT, name="svc-vault"),
        cred(3, IDP, holder=None, name="idp-admin", privilege="admin", stored_in=(VAULT,)),
        federations=[Federation(IDP, WIKI)],
    )
    result = breach(inv)
    despite = result.despite_controls
    idp, wiki = reached(despite, "Identity provider"), reached(despite, "Wiki")
    assert (idp.hops, idp.via.name, idp.privilege) == (2, "idp-read", "admin")
    assert idp.sign_in is not None and idp.sign_in.via.name == "idp-admin"
    assert wiki.hops == 5
    assert wiki.path_text == (
        "Acme holds svc-vault (service account, read) -> opens Vault"
        " -> stores idp-admin (service account, admin) -> opens Identity provider"
        " -> trusted by Wiki for sign-in"
    )
    data = {s["name"]: s for s in result.to_dict()["despite_controls"]["systems"]}
    assert data["Identity provider"]["sign_in"]["hops"] == 4
    assert data["Identity provider"]["sign_in"]["via"]["from"]["name"] == "Vault"
    assert "sign_in" not in data["Wiki"]


# --- Systems operated by a vendor ---------------------------------------------------------------


def test_a_vendor_operated_system_exposes_its_data_and_stored_credentials_without_a_credential():
    inv = build(
        cred(1, BILLING, holder=None, name="crm-billing-key", kind="api_token", stored_in=(CRM,)),
        systems=systems(s4={"operator_vendor_id": 1, "holdings": (Holding(PII.id, 5000),)}),
    )
    result = breach(inv)
    despite = result.despite_controls
    assert names(despite) == names(result.if_controls_fail) == {"CRM", "Billing"}
    crm = reached(despite, "CRM")
    assert (crm.privilege, crm.hops, crm.credentials) == ("admin", 1, ())
    assert crm.path_text == "Acme operates CRM"
    assert reached(despite, "Billing").path_text == (
        "Acme operates CRM -> stores crm-billing-key (access token, read) -> opens Billing"
    )
    [pii] = despite.data
    assert (pii.records, pii.sources[0].path_text) == (
        5000,
        "Acme operates CRM -> holds customer PII",
    )
    assert to_rotate(result) == {"crm-billing-key": "stored in CRM"}
    data = result.to_dict()["despite_controls"]["systems"][0]
    assert data["via"] == {
        "link": {"kind": "operator"},
        "from": {"kind": "vendor", "id": 1, "name": "Acme"},
    }
    # Another vendor's breach does not reach it.
    assert compute(inv, [2], as_of=AS_OF).despite_controls.systems == ()


# --- Vendor software we run ---------------------------------------------------------------------


def software_inventory(automatic: bool) -> Inventory:
    return build(
        cred(1, PROD, holder=None, name="deploy-key", kind="ssh_key", stored_in=(BUILD,)),
        software=[
            SoftwareSupply(BUILD, 1, "admin", automatic_updates=automatic, software="CI agent")
        ],
    )


def test_vendor_software_with_automatic_updates_reaches_its_system_despite_controls():
    result = breach(software_inventory(True))
    despite = result.despite_controls
    assert names(despite) == {"Build server", "Production"}
    build_server = reached(despite, "Build server")
    assert (build_server.privilege, build_server.edge, build_server.hops) == ("admin", SUPPLIES, 1)
    assert build_server.path_text == (
        "Build server runs software supplied by Acme (CI agent, admin, updates applied"
        " automatically)"
    )
    assert reached(despite, "Production").path_text == (
        build_server.path_text + " -> stores deploy-key (SSH key, read) -> opens Production"
    )
    assert to_rotate(result) == {"deploy-key": "stored in Build server"}
    assert result.links_held == ()


def test_vendor_software_whose_updates_we_approve_reaches_only_if_controls_fail():
    result = breach(software_inventory(False))
    assert names(result.despite_controls) == set()
    assert names(result.if_controls_fail) == {"Build server", "Production"}
    assert reached(result.if_controls_fail, "Build server").path_text == (
        "Build server runs software supplied by Acme (CI agent, admin, updates we approve)"
    )
    [held] = result.links_held
    assert (held.edge, held.source.label, held.system.name, held.barrier) == (
        SUPPLIES,
        "Acme",
        "Build server",
        "update_approval",
    )
    assert to_rotate(result) == {}
    assert "Build server runs software supplied by Acme: updates we approve" in render_text(result)


# --- Network zones ------------------------------------------------------------------------------


CORP, CARDHOLDER = NetworkZone(1, "Corporate", reaches=(2,)), NetworkZone(2, "Cardholder")


def zones_inventory() -> Inventory:
    portal, pos, payments, hr = 1, 2, 3, 4
    return Inventory.build(
        vendors=[Vendor(1, "Fazio")],
        systems=[
            System(portal, "Vendor portal", zone_ids=(CORP.id,)),
            System(pos, "POS terminals", zone_ids=(CARDHOLDER.id,)),
            System(
                payments,
                "Payments",
                zone_ids=(CARDHOLDER.id,),
                accepts_unauthenticated_from=(CORP.id,),
                holdings=(Holding(CARDS.id, 40_000_000),),
            ),
            System(hr, "HR server", zone_ids=(CORP.id,)),
            System(5, "Vault"),
            System(6, "Card vault"),
        ],
        credentials=[
            cred(1, portal, name="portal-login", kind="user_account"),
            cred(2, 5, holder=None, name="payments-vault-key", stored_in=(payments,)),
            cred(3, 6, holder=None, name="pos-key", stored_in=(pos,)),
        ],
        categories=CATEGORIES,
        zones=[CORP, CARDHOLDER],
    )


def test_network_reach_counts_despite_controls_only_where_no_sign_in_is_needed():
    result = breach(zones_inventory())
    despite, if_fail = result.despite_controls, result.if_controls_fail
    assert names(despite) == {"Vendor portal", "Payments", "Vault"}
    assert names(if_fail) == {
        "Vendor portal",
        "Payments",
        "Vault",
        "POS terminals",
        "HR server",
        "Card vault",
    }
    payments = reached(despite, "Payments")
    assert (payments.edge, payments.privilege, payments.hops) == (CONNECTS, "read", 3)
    assert payments.path_text == (
        "Fazio holds portal-login (user account, read) -> opens Vendor portal"
        " -> can connect to Payments (zone Corporate to zone Cardholder, no sign-in needed)"
    )
    assert reached(if_fail, "HR server").path_text.endswith(
        "-> can connect to HR server (zone Corporate)"
    )
    # Credentials stored in a system reached over the network continue the walk, each in the
    # view it was reached in; only those reached despite the controls are to rotate.
    assert reached(despite, "Vault").path_text == (
        payments.path_text + " -> stores payments-vault-key (service account, read) -> opens Vault"
    )
    assert reached(if_fail, "Card vault").hops == 5
    assert to_rotate(result) == {
        "portal-login": "held by Fazio",
        "payments-vault-key": "stored in Payments",
    }
    assert [(h.edge, h.source.label, h.system.name, h.barrier) for h in result.links_held] == [
        (CONNECTS, "Vendor portal", "HR server", "authentication"),
        (CONNECTS, "Vendor portal", "POS terminals", "authentication"),
    ]
    [cards] = despite.data
    assert cards.records == 40_000_000
    link = next(s for s in result.to_dict()["despite_controls"]["systems"] if s["id"] == 3)
    assert link["via"]["link"] == {
        "kind": "network",
        "from_zone": {"id": 1, "name": "Corporate"},
        "to_zone": {"id": 2, "name": "Cardholder"},
        "unauthenticated": True,
    }


def test_a_zone_cycle_terminates():
    a, b = NetworkZone(1, "A", reaches=(2,)), NetworkZone(2, "B", reaches=(1,))
    inv = Inventory.build(
        vendors=[Vendor(1, "Acme")],
        systems=[
            System(1, "S1", zone_ids=(1,)),
            System(2, "S2", zone_ids=(2,), accepts_unauthenticated_from=(1,)),
            System(3, "S3", zone_ids=(1,), accepts_unauthenticated_from=(2,)),
            System(4, "S4", zone_ids=(2,)),
        ],
        credentials=[cred(1, 1)],
        zones=[a, b],
    )
    result = breach(inv)
    assert names(result.despite_controls) == {"S1", "S2", "S3"}
    assert reached(result.despite_controls, "S3").path_text == (
        "Acme holds cred-1 (service account, read) -> opens S1 -> can connect to S2"
        " (zone A to zone B, no sign-in needed) -> can connect to S3 (zone B to zone A, no"
        " sign-in needed)"
    )
    assert names(result.if_controls_fail) == {"S1", "S2", "S3", "S4"}
    assert reach_counts_for_all_vendors(inv, as_of=AS_OF)[1] == (3, 4, 0)


# --- Fourth parties with volumes ------------------------------------------------------------------


def test_a_named_fourth_party_exposes_the_records_passed_to_it_in_the_headline():
    mailer = FourthParty(1, "Mailer", service="email delivery")
    inv = Inventory.build(
        vendors=[
            Vendor(1, "Acme", holdings=(Holding(DOCS.id, 50),)),
            Vendor(2, "Beta"),
        ],
        categories=CATEGORIES,
        fourth_parties=[mailer],
        links=[
            # Records stated per category; internal docs passed with no count: all we send.
            SubprocessorLink(
                1,
                None,
                fourth_party_id=1,
                passed=(Holding(PII.id, 300), Holding(DOCS.id)),
            ),
            SubprocessorLink(2, None, fourth_party_id=1, passed=(Holding(PII.id, 20),)),
            SubprocessorLink(2, 1, passed=(Holding(CARDS.id, 7),)),
        ],
    )
    result = compute(inv, [], as_of=AS_OF, breached_fourth_party_ids=[1])
    assert [(e.vendor.name, e.subprocessor.name) for e in result.fourth_party_exposure] == [
        ("Acme", "Mailer"),
        ("Beta", "Mailer"),
    ]
    acme = result.fourth_party_exposure[0]
    assert [(p.category.name, p.records) for p in acme.passed_on] == [
        ("customer PII", 300),
        ("internal docs", 50),
    ]
    f = result.figures
    assert (f.systems_despite_controls, f.fourth_party_categories, f.fourth_party_records) == (
        0,
        2,
        370,
    )
    assert (f.exposed_categories_despite_controls, f.exposed_records_despite_controls) == (2, 370)
    text = render_text(result)
    assert text.startswith("Breach of Mailer")
    assert "0 systems, 2 data categories (370 records)" in text
    data = result.to_dict()
    assert data["breached_fourth_parties"] == [{"id": 1, "name": "Mailer"}]
    assert data["fourth_party_exposure"][0]["subprocessor"] == {
        "id": 1,
        "name": "Mailer",
        "kind": "fourth_party",
    }
    # A vendor subprocessor's link states its records too.
    [beta] = compute(inv, [1], as_of=AS_OF).fourth_party_exposure
    assert [(p.category.name, p.records) for p in beta.passed_on] == [("card data", 7)]
    assert fourth_party_concentration(inv) == {("fourth_party", 1): 2, ("vendor", 1): 1}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SubprocessorLink(1, None), "one of subprocessor_id and fourth_party_id"),
        (lambda: SubprocessorLink(1, 2, fourth_party_id=3), "one of"),
        (lambda: build(federations=[Federation(IDP, 99)]), "unknown system 99"),
        (lambda: Federation(1, 2, privilege="root"), "privilege 'root'"),
        (lambda: build(software=[SoftwareSupply(BUILD, 9)]), "unknown vendor 9"),
        (lambda: build(systems=[System(1, "S", operator_vendor_id=9)]), "unknown vendor 9"),
        (lambda: build(systems=[System(1, "S", zone_ids=(4,))]), "unknown network zone 4"),
        (lambda: build(zones=[NetworkZone(1, "Z", reaches=(2,))]), "unknown network zone 2"),
        (
            lambda: build(links=[SubprocessorLink(1, None, fourth_party_id=5)]),
            "unknown fourth party 5",
        ),
        (
            lambda: compute(build(), [], as_of=AS_OF, breached_fourth_party_ids=[5]),
            "unknown breached fourth party id 5",
        ),
    ],
)
def test_an_inconsistent_new_edge_is_refused_with_a_reason(make, message):
    with pytest.raises(ValueError, match=message):
        make()

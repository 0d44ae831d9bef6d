"""The blast-radius engine on hand-built graphs, one per rule, plus a property test against a
plain breadth-first reference. Pure: no app, no database."""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vendor_risk.core.blast_radius.engine import (
    CREDENTIAL_KINDS,
    Credential,
    DataCategory,
    Federation,
    FourthParty,
    Holding,
    Inventory,
    NetworkZone,
    SoftwareSupply,
    SubprocessorLink,
    System,
    Vendor,
    compute,
    concentration,
    reach_counts_for_all_vendors,
    reach_figures_for_all_vendors,
)
from vendor_risk.core.blast_radius.words import render_text

AS_OF = datetime(2023, 11, 14, tzinfo=UTC)
SINCE = datetime(2023, 9, 28, tzinfo=UTC)
VENDOR = Vendor(1, "Acme")
PII = DataCategory(1, "customer PII", 4)
HR = DataCategory(2, "HR records", 3)
DOCS = DataCategory(3, "internal docs", 2)


def cred(id: int, system_id: int, holder: int | None = VENDOR.id, **fields) -> Credential:
    """A machine credential (a service account) with no barrier unless told otherwise."""
    defaults = {"name": f"cred-{id}", "kind": "service_account", "privilege": "read"}
    return Credential(id=id, system_id=system_id, holder_vendor_id=holder, **defaults | fields)


def interactive(id: int, system_id: int, **fields) -> Credential:
    return cred(id, system_id, kind="user_account", interactive=True, **fields)


def numbered_systems(count: int) -> list[System]:
    return [System(id, f"S{id}") for id in range(1, count + 1)]


def build(
    *credentials: Credential, systems=None, vendors=(VENDOR,), categories=(PII, HR, DOCS)
) -> Inventory:
    return Inventory.build(
        vendors=vendors,
        systems=numbered_systems(5) if systems is None else systems,
        credentials=credentials,
        categories=categories,
    )


def breach(*credentials: Credential, since=None, **inventory):
    """The blast radius of a breach of the first vendor."""
    inv = build(*credentials, **inventory)
    return compute(inv, [next(iter(inv.vendors))], as_of=AS_OF, since=since)


def names(reach) -> set[str]:
    return {reached.system.name for reached in reach.systems}


def barriers(result) -> dict[str, str]:
    return {held.credential.name: held.barrier for held in result.barriers_held}


# --- Barriers -------------------------------------------------------------------------------


def test_mfa_stops_an_interactive_credential_but_not_a_machine_one():
    result = breach(
        interactive(1, 1, name="alice", mfa_enforced=True),
        cred(2, 2, name="svc-deploy", mfa_enforced=True),
    )
    assert names(result.despite_controls) == {"S2"}
    assert barriers(result) == {"alice": "mfa"}
    assert names(result.if_controls_fail) == {"S1", "S2"}


def test_phishing_resistant_mfa_is_reported_before_plain_mfa():
    result = breach(
        interactive(1, 1, name="admin", mfa_enforced=True, phishing_resistant_mfa=True),
        cred(2, 2, name="svc-api", phishing_resistant_mfa=True),
    )
    assert barriers(result) == {"admin": "phishing_resistant_mfa"}
    assert names(result.despite_controls) == {"S2"}


def test_mfa_required_by_the_system_stops_interactive_credentials_only():
    result = breach(
        interactive(1, 1, name="bob"),
        cred(2, 1, name="svc-sync", privilege="write"),
        systems=[System(1, "CRM", mfa_required=True)],
    )
    assert barriers(result) == {"bob": "mfa"}
    [crm] = result.despite_controls.systems
    assert crm.privilege == "write"
    assert [c.name for c in crm.credentials] == ["svc-sync"]


def test_ip_restriction_holds_even_for_machine_credentials():
    result = breach(cred(1, 1, name="vpn-token", ip_restricted=True))
    assert barriers(result) == {"vpn-token": "ip_restricted"}
    assert result.despite_controls.systems == ()
    assert names(result.if_controls_fail) == {"S1"}


def test_a_revoked_credential_opens_nothing_and_needs_no_rotation():
    result = breach(cred(1, 1, name="old", status="revoked", mfa_enforced=True))
    assert barriers(result) == {"old": "revoked"}
    assert result.credentials_to_rotate == ()
    assert names(result.if_controls_fail) == {"S1"}


def test_expired_at_the_moment_of_the_breach_opens_nothing():
    result = breach(
        cred(1, 1, name="expired", expires_at=AS_OF),
        cred(2, 2, name="still-valid", expires_at=AS_OF + timedelta(seconds=1)),
    )
    assert barriers(result) == {"expired": "expired"}
    assert names(result.despite_controls) == {"S2"}
    # Expired is not revoked: it can be extended, so it is still on the rotation list.
    assert {item.credential.name for item in result.credentials_to_rotate} == {
        "expired",
        "still-valid",
    }


def test_rotation_after_the_breach_began_makes_the_stolen_copy_stale():
    credentials = (
        cred(1, 1, name="rotated-after", last_rotated_at=SINCE + timedelta(days=1)),
        cred(2, 2, name="rotated-before", last_rotated_at=SINCE - timedelta(days=1)),
        cred(3, 3, name="rotated-at-start", last_rotated_at=SINCE),
        cred(4, 4, name="never-rotated"),
    )
    incident = breach(*credentials, since=SINCE)
    assert barriers(incident) == {"rotated-after": "rotated"}
    assert names(incident.despite_controls) == {"S2", "S3", "S4"}
    # Without a breach start, a rotation says nothing about the attacker's copy.
    drill = breach(*credentials)
    assert barriers(drill) == {}
    assert names(drill.despite_controls) == {"S1", "S2", "S3", "S4"}


def test_barriers_are_reported_in_order_revoked_first():
    result = breach(
        interactive(1, 1, status="revoked", expires_at=AS_OF, mfa_enforced=True, ip_restricted=True)
    )
    assert barriers(result) == {"cred-1": "revoked"}


def test_naive_datetimes_are_taken_as_utc():
    naive_as_of = AS_OF.replace(tzinfo=None)
    result = breach(cred(1, 1, expires_at=naive_as_of))
    assert barriers(result) == {"cred-1": "expired"}


# --- Lateral movement ------------------------------------------------------------------------


def test_lateral_movement_follows_stored_credentials_hop_after_hop_by_the_shortest_path():
    # S1 -> S2 -> S3 -> S4 along a chain, and S1 -> S4 directly through a key stored in S1.
    result = breach(
        cred(1, 1, name="svc-wiki"),
        cred(2, 2, holder=None, name="jira-token", kind="api_token", stored_in=(1,)),
        cred(3, 3, holder=None, name="ci-key", kind="ssh_key", stored_in=(2,)),
        cred(4, 4, holder=None, name="chain-key", kind="ssh_key", stored_in=(3,)),
        cred(5, 4, holder=None, name="shortcut", kind="ssh_key", stored_in=(1,), privilege="admin"),
        systems=[System(1, "Wiki"), System(2, "Jira"), System(3, "CI"), System(4, "Prod")],
    )
    hops = {r.system.name: r.path.hops for r in result.despite_controls.systems}
    assert hops == {"Wiki": 2, "Jira": 4, "Prod": 4, "CI": 6}
    prod = next(r for r in result.despite_controls.systems if r.system.name == "Prod")
    assert prod.path.text == (
        "Acme holds svc-wiki (service account, read) -> opens Wiki"
        " -> stores shortcut (SSH key, admin) -> opens Prod"
    )
    assert prod.path.verbs == ("holds", "opens", "stores", "opens")
    assert [(s.kind, s.id) for s in prod.path.steps] == [
        ("vendor", 1),
        ("credential", 1),
        ("system", 1),
        ("credential", 5),
        ("system", 4),
    ]
    assert prod.privilege == "admin"  # the chain key (read) also opens it; admin wins


def test_cycles_terminate():
    # S1 stores a key to S2, S2 stores one to S1, and S3 stores a key to itself.
    inv = build(
        cred(1, 1),
        cred(2, 2, holder=None, stored_in=(1,)),
        cred(3, 1, holder=None, stored_in=(2,)),
        cred(4, 3, holder=None, stored_in=(2, 3)),
    )
    result = compute(inv, [VENDOR.id], as_of=AS_OF)
    assert names(result.despite_controls) == {"S1", "S2", "S3"}
    assert reach_counts_for_all_vendors(inv, as_of=AS_OF)[VENDOR.id] == (3, 3, 0)
    assert {s: c.vendors_despite_controls for s, c in concentration(inv, as_of=AS_OF).items()} == {
        1: 1,
        2: 1,
        3: 1,
        4: 0,
        5: 0,
    }


def test_a_barrier_on_a_stored_credential_stops_lateral_movement_despite_controls_only():
    result = breach(
        cred(1, 1),
        interactive(2, 2, holder=None, name="admin-login", mfa_enforced=True, stored_in=(1,)),
        cred(3, 3, holder=None, stored_in=(2,)),
    )
    assert names(result.despite_controls) == {"S1"}
    assert names(result.if_controls_fail) == {"S1", "S2", "S3"}
    assert barriers(result) == {"admin-login": "mfa"}


def test_the_if_controls_fail_view_contains_the_despite_controls_view():
    result = breach(
        cred(1, 1, privilege="read"),
        interactive(2, 1, privilege="admin", mfa_enforced=True),
        cred(3, 2, holder=None, stored_in=(1,), ip_restricted=True),
        systems=[System(1, "S1", holdings=(Holding(PII.id, 5),)), System(2, "S2")],
    )
    despite, if_fail = result.despite_controls, result.if_controls_fail
    assert despite.system_ids < if_fail.system_ids
    assert despite.category_ids <= if_fail.category_ids
    assert set(despite.credentials_obtained) <= set(if_fail.credentials_obtained)
    privilege = {r.system.name: r.privilege for r in if_fail.systems}
    assert privilege == {"S1": "admin", "S2": "read"}
    assert [r.privilege for r in despite.systems] == ["read"]


# --- Data, records, privilege ----------------------------------------------------------------


def test_reached_data_sums_records_and_says_when_a_count_is_missing():
    result = breach(
        cred(1, 1),
        cred(2, 2),
        vendors=[Vendor(1, "Acme", holdings=(Holding(PII.id, 10),))],
        systems=[
            System(1, "CRM", holdings=(Holding(PII.id, 100), Holding(DOCS.id))),
            System(2, "Billing", holdings=(Holding(PII.id, 50), Holding(HR.id))),
        ],
    )
    data = {r.category.name: r for r in result.despite_controls.data}
    assert (data["customer PII"].records, data["customer PII"].records_complete) == (160, True)
    assert (data["internal docs"].records, data["internal docs"].records_complete) == (None, False)
    assert data["customer PII"].system_ids == (1, 2)
    assert data["customer PII"].vendor_ids == (1,)
    # Held by the vendor itself is the shortest path to it.
    assert data["customer PII"].path.text == "Acme holds customer PII"
    assert data["HR records"].path.text == (
        "Acme holds cred-2 (service account, read) -> opens Billing -> holds HR records"
    )
    # Most sensitive first.
    assert [r.category.sensitivity for r in result.despite_controls.data] == [4, 3, 2]
    assert result.figures.records_despite_controls == 160


def test_max_privilege_over_the_credentials_that_open_a_system():
    result = breach(
        cred(1, 1, privilege="write"),
        cred(2, 1, privilege="admin"),
        cred(3, 1, privilege="read"),
    )
    [reached] = result.despite_controls.systems
    assert reached.privilege == "admin"
    assert [c.id for c in reached.credentials] == [1, 2, 3]


# --- Credentials to rotate ---------------------------------------------------------------------


def test_credentials_to_rotate_include_those_stored_in_systems_reached_despite_controls():
    result = breach(
        cred(1, 1, name="svc-wiki", owner="it@example.com"),
        interactive(2, 9, name="okta-admin", mfa_enforced=True, owner="iam@example.com"),
        cred(3, 2, holder=None, name="pasted-token", stored_in=(1,), owner="dev@example.com"),
        cred(4, 2, holder=None, name="revoked-token", stored_in=(1,), status="revoked"),
        cred(5, 3, name="both", stored_in=(1,)),
        # Stored in S9, reached only if controls fail: not the attacker's despite the controls.
        cred(6, 3, holder=None, name="behind-mfa", stored_in=(9,)),
        systems=[*numbered_systems(3), System(9, "Okta console")],
    )
    rotate = {item.credential.name: item for item in result.credentials_to_rotate}
    assert set(rotate) == {"svc-wiki", "okta-admin", "pasted-token", "both"}
    assert rotate["okta-admin"].reason == "held by Acme"  # its MFA held, but it was stolen
    assert rotate["okta-admin"].credential.owner == "iam@example.com"
    assert rotate["pasted-token"].reason == "stored in S1"
    assert rotate["pasted-token"].system.name == "S2"
    assert rotate["both"].reason == "held by Acme; stored in S1"
    assert result.figures.credentials_to_rotate == 4


def test_a_credential_rotated_after_the_breach_began_is_a_barrier_that_held_not_one_to_rotate():
    result = breach(
        cred(1, 1, name="rotated-after", last_rotated_at=SINCE + timedelta(days=1)),
        cred(2, 2, name="rotated-before", last_rotated_at=SINCE - timedelta(days=1)),
        cred(3, 3, name="revoked", status="revoked"),
        since=SINCE,
    )
    assert barriers(result) == {"rotated-after": "rotated", "revoked": "revoked"}
    assert [item.credential.name for item in result.credentials_to_rotate] == ["rotated-before"]
    text = render_text(result)
    held, to_rotate = text.split("Barriers that held:")[1].split("Credentials to rotate")
    assert "rotated-after (service account, read) -> S1: rotated after the breach began" in held
    assert "rotated-after" not in to_rotate and "revoked" not in to_rotate
    assert to_rotate.startswith(" (1), still valid in the attacker's hands:")
    data = result.to_dict()
    assert [c["name"] for c in data["credentials_to_rotate"]] == ["rotated-before"]
    assert data["figures"]["credentials_to_rotate"] == 1
    # A drill without a breach start: no rotation makes a stolen copy stale.
    drill = breach(cred(1, 1, name="rotated-after", last_rotated_at=SINCE + timedelta(days=1)))
    assert [item.credential.name for item in drill.credentials_to_rotate] == ["rotated-after"]


def test_each_credential_to_rotate_says_whether_a_barrier_stops_its_use_now():
    result = breach(
        cred(1, 1, name="svc-open"),
        interactive(2, 2, name="admin-key", mfa_enforced=True, phishing_resistant_mfa=True),
        interactive(3, 3, name="support-login", mfa_enforced=True),
        cred(4, 4, name="office-only", ip_restricted=True),
        cred(5, 5, name="lapsed", expires_at=AS_OF - timedelta(days=1)),
    )
    stopped = {item.credential.name: item.stopped_by for item in result.credentials_to_rotate}
    assert stopped == {
        "svc-open": None,
        "admin-key": "phishing_resistant_mfa",
        "support-login": "mfa",
        "office-only": "ip_restricted",
        "lapsed": "expired",
    }
    lines = render_text(result).split("Credentials to rotate")[1].splitlines()
    said = {line.split()[0]: line for line in lines[1:]}
    assert said["svc-open"].endswith("held by Acme; usable now: no barrier stops it")
    assert said["admin-key"].endswith("phishing-resistant MFA stops its use now")
    assert said["support-login"].endswith("; MFA stops its use now")
    assert said["office-only"].endswith("its IP restriction stops its use now")
    assert said["lapsed"].endswith("expired: unusable until its expiry is extended")
    assert {
        c["name"]: c["stopped_by"] for c in result.to_dict()["credentials_to_rotate"]
    } == stopped


CUSTOMERS = DataCategory(4, "customer records", 4)


def test_the_records_of_a_category_add_up_its_sources_each_with_its_own_path():
    # The vendor holds 120,000 customer records itself; its token opens a database of 2.1 million.
    result = breach(
        cred(1, 1, name="db-token", kind="api_token"),
        vendors=[Vendor(1, "Acme", holdings=(Holding(CUSTOMERS.id, 120_000),))],
        systems=[System(1, "Customer DB", holdings=(Holding(CUSTOMERS.id, 2_100_000),))],
        categories=[CUSTOMERS],
    )
    [customers] = result.despite_controls.data
    assert customers.records == 2_220_000 and customers.records_complete
    assert [(s.holder.label, s.records, s.path_text) for s in customers.sources] == [
        ("Acme", 120_000, "Acme holds customer records"),
        (
            "Customer DB",
            2_100_000,
            "Acme holds db-token (access token, read) -> opens Customer DB"
            " -> holds customer records",
        ),
    ]
    [data] = result.to_dict()["despite_controls"]["data"]
    assert data["records"] == 2_220_000
    assert data["sources"] == [
        {"kind": "vendor", "id": 1, "name": "Acme", "records": 120_000},
        {"kind": "system", "id": 1, "name": "Customer DB", "records": 2_100_000},
    ]
    text = render_text(result)
    assert (
        "  customer records (critical, 2,220,000 records):\n"
        "    120,000 records, held by Acme directly: Acme holds customer records\n"
        "    2,100,000 records, in Customer DB: Acme holds db-token (access token, read)"
        " -> opens Customer DB -> holds customer records\n"
    ) in text


def test_a_breach_of_a_subprocessor_alone_is_not_nothing_at_the_top():
    # Payroll passes our HR records to a cloud host, which holds nothing of ours itself.
    payroll, cloud = Vendor(1, "Payroll", (Holding(HR.id, 400),)), Vendor(2, "Cloud host")
    inv = Inventory.build(
        vendors=[payroll, cloud],
        categories=[PII, HR, DOCS],
        links=[SubprocessorLink(payroll.id, cloud.id, (HR.id, DOCS.id))],
    )
    result = compute(inv, [cloud.id], as_of=AS_OF)
    f = result.figures
    assert (f.systems_despite_controls, f.categories_despite_controls) == (0, 0)  # our own reach
    assert (f.exposed_categories_despite_controls, f.exposed_records_despite_controls) == (2, 400)
    assert (f.fourth_party_categories, f.fourth_party_records) == (2, 400)
    assert (f.exposed_categories_if_controls_fail, f.exposed_records_if_controls_fail) == (2, 400)
    [exposure] = result.fourth_party_exposure
    assert [(p.category.name, p.records) for p in exposure.passed_on] == [
        ("HR records", 400),  # what we send Payroll: all of it may have been passed on
        ("internal docs", None),  # Payroll holds no count of it
    ]
    headline = render_text(result).splitlines()[1]
    assert headline == (
        "Reached despite controls: 0 systems, 2 data categories (400 records), "
        "including through subprocessors: 2 data categories (400 records)"
    )
    assert "0 data categories" not in render_text(result)


def chain(length: int) -> Inventory:
    """A vendor's token opens S0; S(n) stores a key to S(n+1): ``length`` systems in a row,
    each holding internal docs."""
    return Inventory.build(
        vendors=[VENDOR],
        categories=[DOCS],
        systems=[System(n, f"S{n}", holdings=(Holding(DOCS.id, 10),)) for n in range(length)],
        credentials=[
            cred(0, 0, name="k0"),
            *(cred(n, n, holder=None, name=f"k{n}", stored_in=(n - 1,)) for n in range(1, length)),
        ],
    )


def test_a_path_is_walked_back_through_the_json_one_step_at_a_time():
    result = compute(chain(4), [VENDOR.id], as_of=AS_OF)
    data = result.to_dict()["despite_controls"]
    systems = {s["id"]: s for s in data["systems"]}
    steps, node = [], systems[3]
    while True:
        via = node["via"]
        steps += [node["name"], via["credential"]["name"]]
        if via["from"]["kind"] == "vendor":
            steps.append(via["from"]["name"])
            break
        node = systems[via["from"]["id"]]
    assert steps[::-1] == ["Acme", "k0", "S0", "k1", "S1", "k2", "S2", "k3", "S3"]
    last = result.despite_controls.systems[-1]
    assert [step.label for step in last.path.steps] == [
        "Acme",
        "k0 (service account, read)",
        "S0",
        "k1 (service account, read)",
        "S1",
        "k2 (service account, read)",
        "S2",
        "k3 (service account, read)",
        "S3",
    ]
    assert systems[3]["hops"] == last.path.hops == 8


def test_the_json_and_the_words_grow_linearly_with_a_chain_of_stored_credentials():
    # Every system repeating its whole path made a 1,000-hop chain 362 MB of JSON.
    def sizes(length: int) -> tuple[int, int]:
        result = compute(chain(length), [VENDOR.id], as_of=AS_OF)
        return len(json.dumps(result.to_dict())), len(render_text(result))

    (json_500, text_500), (json_1000, text_1000) = sizes(500), sizes(1_000)
    assert json_1000 / json_500 < 2.1 and text_1000 / text_500 < 2.1
    assert json_1000 < 1_500_000 and text_1000 < 1_500_000

    result = compute(chain(1_000), [VENDOR.id], as_of=AS_OF)
    last = result.despite_controls.systems[-1]
    assert last.hops == 2_000 and last.path.hops == 2_000  # the whole path, for who asks
    # In words: where it starts, how many steps are left out, and the last three hops.
    assert last.path_text == (
        "Acme holds k0 (service account, read) -> opens S0 -> \u2026 1,992 more steps \u2026"
        " -> stores k997 (service account, read) -> opens S997"
        " -> stores k998 (service account, read) -> opens S998"
        " -> stores k999 (service account, read) -> opens S999"
    )
    [docs] = result.despite_controls.data
    assert len(docs.sources) == 1_000 and docs.records == 10_000
    assert docs.sources[-1].path_text == f"{last.path_text} -> holds internal docs"
    # A path up to a dozen edges is written whole.
    sixth = result.despite_controls.systems[5]
    assert sixth.hops == 12 and sixth.path_text == sixth.path.text


# --- Fourth parties, several vendors, nothing -----------------------------------------------


def test_a_breached_subprocessor_exposes_what_each_vendor_passes_on_to_it():
    payroll, cloud, crm = Vendor(1, "Payroll"), Vendor(2, "Cloud host"), Vendor(3, "CRM")
    inv = Inventory.build(
        vendors=[payroll, cloud, crm],
        categories=[PII, HR, DOCS],
        links=[
            SubprocessorLink(payroll.id, cloud.id, (HR.id, PII.id)),
            SubprocessorLink(crm.id, cloud.id, (PII.id,)),
            SubprocessorLink(payroll.id, crm.id, (DOCS.id,)),
        ],
    )
    result = compute(inv, [cloud.id], as_of=AS_OF)
    exposure = [
        (e.vendor.name, e.subprocessor.name, [c.name for c in e.categories])
        for e in result.fourth_party_exposure
    ]
    assert exposure == [
        ("CRM", "Cloud host", ["customer PII"]),
        ("Payroll", "Cloud host", ["HR records", "customer PII"]),
    ]
    assert (result.figures.fourth_party_links, result.figures.fourth_party_categories) == (2, 2)
    # A relying on B says nothing about a breach of A.
    assert compute(inv, [payroll.id], as_of=AS_OF).fourth_party_exposure == ()


def test_several_breached_vendors_reach_the_union_each_from_its_own_vendor():
    okta, github = Vendor(1, "Okta"), Vendor(2, "GitHub")
    inv = Inventory.build(
        vendors=[okta, github],
        systems=numbered_systems(3),
        credentials=[cred(1, 1, holder=okta.id), cred(2, 2, holder=github.id)],
    )
    result = compute(inv, [github.id, okta.id, okta.id], as_of=AS_OF)
    assert [v.name for v in result.breached_vendors] == ["Okta", "GitHub"]
    starts = {r.system.name: r.path.steps[0].label for r in result.despite_controls.systems}
    assert starts == {"S1": "Okta", "S2": "GitHub"}


def test_a_vendor_with_nothing_has_an_empty_blast_radius():
    result = breach(cred(1, 1, holder=None))
    assert result.despite_controls.systems == result.if_controls_fail.systems == ()
    assert result.despite_controls.data == ()
    assert result.credentials_to_rotate == result.barriers_held == ()
    assert result.fourth_party_exposure == ()
    assert set(result.figures.to_dict().values()) <= {0, None}
    json.dumps(result.to_dict())


def test_an_unknown_breached_vendor_is_an_error_naming_it():
    inv = Inventory.build(vendors=[VENDOR])
    with pytest.raises(ValueError, match="42"):
        compute(inv, [1, 42], as_of=AS_OF)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Inventory.build(credentials=[cred(1, 7, holder=None)]), "unknown system 7"),
        (
            lambda: Inventory.build(systems=numbered_systems(1), credentials=[cred(1, 1)]),
            "unknown vendor 1",
        ),
        (lambda: Inventory.build(vendors=[VENDOR, VENDOR]), "duplicate vendor id 1"),
        (lambda: Inventory.build(systems=[System(1, "S", holdings=(Holding(8),))]), "category 8"),
        (lambda: cred(1, 1, privilege="root"), "privilege 'root'"),
        (lambda: cred(1, 1, kind="password"), "kind 'password'"),
        (lambda: DataCategory(1, "x", 5), "sensitivity"),
    ],
)
def test_an_inconsistent_inventory_is_refused_with_a_reason(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- The 2023 incident ------------------------------------------------------------------------


SOURCE_CODE = DataCategory(10, "source code", 3)
INTERNAL_DOCS = DataCategory(11, "internal documentation", 2)
CUSTOMER_PII = DataCategory(12, "customer PII", 4)
IDENTITIES = DataCategory(13, "employee identities", 3)
OCT_20 = datetime(2023, 10, 20, tzinfo=UTC)


def incident_inventory() -> Inventory:
    """The 2023 incident: the identity provider's support system held four credentials that were
    never rotated, plus administrator logins that MFA protected."""
    okta = Vendor(1, "Okta")

    def atlassian(id: int, name: str, kind: str, *holdings: Holding) -> System:
        return System(
            id, name, kind=kind, environment="production", owner="it@example.com", holdings=holdings
        )

    def stolen(id: int, name: str, kind: str, system_id: int, privilege: str, **fields):
        return Credential(
            id=id,
            name=name,
            kind=kind,
            holder_vendor_id=okta.id,
            system_id=system_id,
            privilege=privilege,
            owner="it@example.com",
            **fields,
        )

    hardware_key = dict(interactive=True, mfa_enforced=True, phishing_resistant_mfa=True)
    customers = Holding(CUSTOMER_PII.id, 2_000_000)
    return Inventory.build(
        vendors=[okta, Vendor(2, "Payroll")],
        categories=[SOURCE_CODE, INTERNAL_DOCS, CUSTOMER_PII, IDENTITIES],
        # Payroll signs its users in through Okta too: a fourth party of ours.
        links=[SubprocessorLink(2, okta.id, (IDENTITIES.id,))],
        systems=[
            atlassian(1, "Confluence", "wiki", Holding(INTERNAL_DOCS.id, 40_000)),
            atlassian(2, "Jira", "ticketing", Holding(INTERNAL_DOCS.id, 120_000)),
            atlassian(3, "Bitbucket", "source control", Holding(SOURCE_CODE.id)),
            System(4, "Okta console", holdings=(Holding(IDENTITIES.id, 4_000),)),
            System(5, "Customer dashboard", mfa_required=True, holdings=(customers,)),
            System(6, "CI"),
        ],
        credentials=[
            # The four that were never rotated: one access token, three service accounts.
            stolen(1, "atlassian-token", "api_token", 1, "admin"),
            stolen(2, "svc-work-mgmt", "service_account", 2, "write"),
            stolen(3, "svc-bitbucket", "service_account", 3, "admin"),
            stolen(4, "svc-wiki-sync", "service_account", 1, "read"),
            # Administrators log in with hardware keys; the dashboard demands MFA of everyone.
            stolen(5, "okta-admin", "sso_admin", 4, "admin", **hardware_key),
            stolen(6, "dashboard-admin", "user_account", 5, "admin", interactive=True),
            # One of the thousands rotated after the breach began.
            stolen(7, "svc-ci", "service_account", 6, "admin", last_rotated_at=OCT_20),
        ],
    )


def test_the_2023_incident_reaches_wiki_ticketing_and_source_control_and_mfa_holds():
    result = compute(incident_inventory(), [1], as_of=AS_OF, since=SINCE)
    despite = result.despite_controls

    assert {(r.system.name, r.privilege) for r in despite.systems} == {
        ("Confluence", "admin"),
        ("Jira", "write"),
        ("Bitbucket", "admin"),
    }
    assert {(h.credential.name, h.system.name, h.barrier) for h in result.barriers_held} == {
        ("okta-admin", "Okta console", "phishing_resistant_mfa"),
        ("dashboard-admin", "Customer dashboard", "mfa"),
        ("svc-ci", "CI", "rotated"),
    }
    assert names(result.if_controls_fail) == {
        "Confluence",
        "Jira",
        "Bitbucket",
        "Okta console",
        "Customer dashboard",
        "CI",
    }

    texts = {r.category.name: r.path.text for r in despite.data}
    assert texts == {
        "source code": "Okta holds svc-bitbucket (service account, admin) -> opens Bitbucket"
        " -> holds source code",
        "internal documentation": "Okta holds atlassian-token (access token, admin)"
        " -> opens Confluence -> holds internal documentation",
    }
    docs = next(r for r in despite.data if r.category.name == "internal documentation")
    assert docs.records == 160_000
    assert CUSTOMER_PII.id not in despite.category_ids
    assert CUSTOMER_PII.id in result.if_controls_fail.category_ids

    # svc-ci, one of the thousands rotated after the breach began, is a barrier that held: it
    # is not on the list, which keeps the ones that matter, each saying whether MFA stops it.
    rotate = {item.credential.name: item for item in result.credentials_to_rotate}
    assert {name: item.reason for name, item in rotate.items()} == dict.fromkeys(
        [
            "atlassian-token",
            "svc-work-mgmt",
            "svc-bitbucket",
            "svc-wiki-sync",
            "okta-admin",
            "dashboard-admin",
        ],
        "held by Okta",
    )
    assert {name: item.stopped_by for name, item in rotate.items()} == {
        "atlassian-token": None,
        "svc-work-mgmt": None,
        "svc-bitbucket": None,
        "svc-wiki-sync": None,
        "okta-admin": "phishing_resistant_mfa",
        "dashboard-admin": "mfa",
    }
    [exposure] = result.fourth_party_exposure
    assert (exposure.vendor.name, exposure.categories) == ("Payroll", (IDENTITIES,))
    figures = result.figures
    assert (figures.systems_despite_controls, figures.systems_if_controls_fail) == (3, 6)
    assert (figures.categories_despite_controls, figures.categories_if_controls_fail) == (2, 4)
    assert (figures.credentials_to_rotate, figures.barriers_held) == (6, 3)
    # The headline counts what Payroll passes on to Okta as well (employee identities, which
    # no system of ours reached despite the controls).
    assert figures.exposed_categories_despite_controls == 3
    assert figures.exposed_categories_if_controls_fail == 4  # identities counted once


def test_the_json_output_is_plain_data_with_iso_dates():
    result = compute(incident_inventory(), [1], as_of=AS_OF, since=SINCE)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["schema_version"] == 3
    assert data["as_of"] == "2023-11-14T00:00:00+00:00"
    assert data["since"] == "2023-09-28T00:00:00+00:00"
    assert data["breached_vendors"] == [{"id": 1, "name": "Okta"}]
    assert data["figures"]["systems_despite_controls"] == 3
    bitbucket = next(s for s in data["despite_controls"]["systems"] if s["name"] == "Bitbucket")
    assert bitbucket["hops"] == 2
    assert bitbucket["via"] == {
        "credential": {
            "id": 3,
            "name": "svc-bitbucket",
            "kind": "service_account",
            "privilege": "admin",
        },
        "from": {"kind": "vendor", "id": 1, "name": "Okta"},
    }
    assert "path" not in bitbucket  # the reader walks back through "via"
    rotate = {c["name"]: c for c in data["credentials_to_rotate"]}
    assert "svc-ci" not in rotate  # rotated after the breach began: a barrier that held
    assert rotate["okta-admin"]["stopped_by"] == "phishing_resistant_mfa"
    assert rotate["svc-bitbucket"]["stopped_by"] is None
    ci = next(b for b in data["barriers_held"] if b["credential"]["name"] == "svc-ci")
    assert ci["barrier"] == "rotated"
    assert {"credential", "system", "barrier"} == set(data["barriers_held"][0])
    [identities] = data["fourth_party_exposure"][0]["categories"]
    assert identities == {
        "id": 13,
        "name": "employee identities",
        "sensitivity": 3,
        "records": None,
    }


# --- Property: the engine agrees with a plain breadth-first search ---------------------------

MOMENTS = [AS_OF - timedelta(days=60), SINCE, AS_OF, AS_OF + timedelta(days=60)]
maybe_moment = st.none() | st.sampled_from(MOMENTS)


@st.composite
def random_inventories(draw) -> Inventory:
    n_systems = draw(st.integers(1, 8))
    n_vendors = draw(st.integers(1, 5))
    categories = [
        DataCategory(i, f"cat{i}", draw(st.integers(1, 4))) for i in range(draw(st.integers(0, 4)))
    ]
    # Hypothesis refuses to sample from an empty list, even for a list that stays empty.
    category_ids = st.sampled_from([c.id for c in categories]) if categories else st.nothing()
    room = 3 if categories else 0
    records = st.none() | st.integers(0, 9)
    holdings = st.lists(st.builds(Holding, category_ids, records), max_size=room).map(tuple)
    system_ids = st.integers(0, n_systems - 1)
    vendor_ids = st.integers(0, n_vendors - 1)
    credentials = [
        Credential(
            id=i,
            name=f"c{i}",
            kind=draw(st.sampled_from(sorted(CREDENTIAL_KINDS))),
            system_id=draw(system_ids),
            holder_vendor_id=draw(st.none() | vendor_ids),
            privilege=draw(st.sampled_from(["read", "write", "admin"])),
            interactive=draw(st.booleans()),
            mfa_enforced=draw(st.booleans()),
            phishing_resistant_mfa=draw(st.booleans()),
            ip_restricted=draw(st.integers(0, 4)) == 0,
            status=draw(st.sampled_from(["active"] * 4 + ["revoked"])),
            last_rotated_at=draw(maybe_moment),
            expires_at=draw(maybe_moment),
            stored_in=tuple(draw(st.lists(system_ids, max_size=3))),
        )
        for i in range(draw(st.integers(0, 25)))
    ]
    # Issue 14's edges: zones (with cycles), operators, federations, vendor software, named
    # fourth parties and records passed on.
    n_zones = draw(st.integers(0, 3))
    zone_ids = st.integers(0, n_zones - 1) if n_zones else st.nothing()
    zone_sets = st.lists(zone_ids, max_size=2 if n_zones else 0).map(tuple)
    n_parties = draw(st.integers(0, 2))
    privileges = st.sampled_from(["read", "write", "admin"])
    return Inventory.build(
        vendors=[Vendor(i, f"v{i}", draw(holdings)) for i in range(n_vendors)],
        systems=[
            System(
                i,
                f"s{i}",
                mfa_required=draw(st.booleans()),
                holdings=draw(holdings),
                operator_vendor_id=draw(st.none() | st.none() | vendor_ids),
                zone_ids=draw(zone_sets),
                accepts_unauthenticated_from=draw(zone_sets),
            )
            for i in range(n_systems)
        ],
        credentials=credentials,
        categories=categories,
        links=[
            SubprocessorLink(draw(vendor_ids), draw(vendor_ids), tuple(passed))
            for passed in draw(st.lists(st.lists(category_ids, max_size=room), max_size=3))
        ]
        + [
            SubprocessorLink(
                draw(vendor_ids),
                None,
                fourth_party_id=draw(st.integers(0, n_parties - 1)),
                passed=tuple(
                    draw(st.lists(st.builds(Holding, category_ids, records), max_size=room))
                ),
            )
            for _ in range(draw(st.integers(0, 2 if n_parties else 0)))
        ],
        fourth_parties=[FourthParty(i, f"p{i}") for i in range(n_parties)],
        zones=[NetworkZone(i, f"z{i}", draw(zone_sets)) for i in range(n_zones)],
        federations=[
            Federation(draw(system_ids), draw(system_ids), draw(privileges), draw(st.booleans()))
            for _ in range(draw(st.integers(0, 4)))
        ],
        software=[
            SoftwareSupply(
                draw(system_ids), draw(vendor_ids), draw(privileges), draw(st.booleans())
            )
            for _ in range(draw(st.integers(0, 3)))
        ],
    )


def meets_mfa(cred: Credential) -> bool:
    return cred.interactive and cred.kind != "session_token"  # a stolen session is past MFA


def usable(cred: Credential, inv: Inventory, since: datetime | None) -> bool:
    """The barriers restated in one expression, independently of the engine."""
    system = inv.systems[cred.system_id]
    return not (
        cred.status == "revoked"
        or (cred.expires_at is not None and cred.expires_at <= AS_OF)
        or (since is not None and cred.last_rotated_at is not None and cred.last_rotated_at > since)
        or (meets_mfa(cred) and (cred.mfa_enforced or cred.phishing_resistant_mfa))
        or (meets_mfa(cred) and system.mfa_required)
        or cred.ip_restricted
    )


def reference_graph(inv: Inventory, since: datetime | None, barriers: bool) -> dict:
    """Every edge, restated: a system is a ("system", id) node, or a ("session", id) one when
    reached with a session that signs in (admin, or a session token): it has the same edges
    plus the federated sign-ins."""
    edges: dict[tuple[str, int], list[tuple[str, int]]] = {}

    def edge(a, b):
        edges.setdefault(a, []).append(b)

    def system_edge(a, b):  # from both states of system a
        edge(a, b)
        if a[0] == "system":
            edge(("session", a[1]), b)

    def arrival(system_id: int, privilege: str, kind: str = "") -> tuple[str, int]:
        session = privilege == "admin" or kind == "session_token"
        return ("session" if session else "system", system_id)

    for owner_kind, owners in (("vendor", inv.vendors), ("system", inv.systems)):
        for owner in owners.values():
            for holding in owner.holdings:
                system_edge((owner_kind, owner.id), ("category", holding.category_id))
    for c in inv.credentials.values():
        if c.holder_vendor_id is not None:
            edge(("vendor", c.holder_vendor_id), ("credential", c.id))
        for system_id in c.stored_in:
            system_edge(("system", system_id), ("credential", c.id))
        if not barriers or usable(c, inv, since):
            edge(("credential", c.id), arrival(c.system_id, c.privilege, c.kind))
    for system in inv.systems.values():
        if system.operator_vendor_id is not None:
            edge(("vendor", system.operator_vendor_id), arrival(system.id, "admin"))
    for supply in inv.software:
        if not barriers or supply.automatic_updates:
            edge(("vendor", supply.vendor_id), arrival(supply.system_id, supply.privilege))
    for fed in inv.federations:
        if not barriers or not fed.mfa_enforced:
            edge(("session", fed.identity_provider_id), arrival(fed.system_id, fed.privilege))
    for source in inv.systems.values():
        for zone_id in source.zone_ids:
            zone = inv.zones[zone_id]
            for target in inv.systems.values():
                connects = set(target.zone_ids) & {zone.id, *zone.reaches}
                allowed = not barriers or zone_id in target.accepts_unauthenticated_from
                if connects and allowed and target.id != source.id:
                    system_edge(("system", source.id), ("system", target.id))
    return edges


def reference_distances(edges: dict, vendor_ids) -> dict[tuple[str, int], int]:
    distance = {("vendor", v): 0 for v in vendor_ids}
    queue = deque(distance)
    while queue:
        node = queue.popleft()
        for succ in edges.get(node, ()):
            if succ not in distance:
                distance[succ] = distance[node] + 1
                queue.append(succ)
    # A system's distance is that of its nearer state.
    for (kind, node_id), hops in list(distance.items()):
        if kind == "session":
            del distance[(kind, node_id)]
            key = ("system", node_id)
            distance[key] = min(hops, distance.get(key, hops))
    return distance


def of_kind(distance: dict, kind: str) -> set[int]:
    return {node_id for node_kind, node_id in distance if node_kind == kind}


def real_edge(edges: dict, a: tuple[str, int], b: tuple[str, int]) -> bool:
    """Whether a -> b is an edge from either state of a to either state of b."""
    sources = [a, ("session", a[1])] if a[0] == "system" else [a]
    targets = {b, ("session", b[1])} if b[0] == "system" else {b}
    return any(targets.intersection(edges.get(source, ())) for source in sources)


def assert_agrees_with_reference(reach, edges: dict, distance: dict) -> None:
    assert reach.system_ids == of_kind(distance, "system")
    assert reach.category_ids == of_kind(distance, "category")
    assert set(reach.credentials_obtained) == of_kind(distance, "credential")
    for reached in (*reach.systems, *reach.data):
        steps = [(step.kind, step.id) for step in reached.path.steps]
        assert reached.path.hops == distance[steps[-1]]  # shortest
        assert all(real_edge(edges, a, b) for a, b in pairwise(steps))  # real edges


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inv=random_inventories(), data=st.data())
def test_reach_equals_a_plain_breadth_first_search(inv: Inventory, data):
    since = data.draw(st.none() | st.just(SINCE))
    breached = data.draw(st.sets(st.sampled_from(sorted(inv.vendors)), min_size=1))
    result = compute(inv, breached, as_of=AS_OF, since=since)

    for reach, with_barriers in ((result.despite_controls, True), (result.if_controls_fail, False)):
        edges = reference_graph(inv, since, barriers=with_barriers)
        assert_agrees_with_reference(reach, edges, reference_distances(edges, breached))

    obtained = [inv.credentials[c] for c in result.despite_controls.credentials_obtained]
    assert {h.credential.id for h in result.barriers_held} == {
        c.id for c in obtained if not usable(c, inv, since)
    }
    # The list to rotate: what the attacker obtained and still holds valid (not revoked, not
    # rotated after the breach began), each with the barrier that stops its use now, if any.
    still_valid = [
        c
        for c in obtained
        if c.status == "active"
        and not (since and c.last_rotated_at is not None and c.last_rotated_at > since)
    ]
    assert {i.credential.id: i.stopped_by for i in result.credentials_to_rotate} == {
        c.id: next(
            (
                name
                for name, stops in (
                    ("expired", c.expires_at is not None and c.expires_at <= AS_OF),
                    ("phishing_resistant_mfa", meets_mfa(c) and c.phishing_resistant_mfa),
                    (
                        "mfa",
                        meets_mfa(c) and (c.mfa_enforced or inv.systems[c.system_id].mfa_required),
                    ),
                    ("ip_restricted", c.ip_restricted),
                )
                if stops
            ),
            None,
        )
        for c in still_valid
    }
    # Nothing is both a barrier that held for good (revoked, rotated) and on the list.
    done = {h.credential.id for h in result.barriers_held if h.barrier in {"revoked", "rotated"}}
    assert done.isdisjoint(i.credential.id for i in result.credentials_to_rotate)
    assert [(e.vendor.id, e.subprocessor.id) for e in result.fourth_party_exposure] == sorted(
        (
            (link.vendor_id, link.subprocessor_id)
            for link in inv.links
            if link.subprocessor_id in breached
        ),
        key=lambda pair: (pair[1], inv.vendors[pair[0]].name),
    )

    counts = reach_counts_for_all_vendors(inv, as_of=AS_OF, since=since)
    all_figures = reach_figures_for_all_vendors(inv, as_of=AS_OF, since=since)
    for vendor_id in inv.vendors:
        result = compute(inv, [vendor_id], as_of=AS_OF, since=since)
        figures = result.figures
        assert counts[vendor_id] == (
            figures.systems_despite_controls,
            figures.systems_if_controls_fail,
            figures.categories_despite_controls,
        )
        assert all_figures[vendor_id].counts == counts[vendor_id]
        reached = [r.category.sensitivity for r in result.despite_controls.data]
        assert all_figures[vendor_id].max_sensitivity == max(reached, default=0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inv=random_inventories(), since=st.none() | st.just(SINCE))
def test_concentration_counts_the_vendors_whose_breach_reaches_each_system(inv, since):
    reached_by = {
        with_barriers: {
            vendor_id: of_kind(
                reference_distances(reference_graph(inv, since, with_barriers), [vendor_id]),
                "system",
            )
            for vendor_id in inv.vendors
        }
        for with_barriers in (True, False)
    }
    counts = concentration(inv, as_of=AS_OF, since=since)
    assert set(counts) == set(inv.systems)
    for system_id, (despite, if_fail) in counts.items():
        assert despite == sum(system_id in s for s in reached_by[True].values())
        assert if_fail == sum(system_id in s for s in reached_by[False].values())


def passed_records(inv: Inventory, link: SubprocessorLink) -> list[int | None]:
    """Per category passed: the records the link states, else all that we send the vendor."""
    found = []
    for cid in dict.fromkeys((*link.category_ids, *(h.category_id for h in link.passed))):
        stated = [h.records for h in link.passed if h.category_id == cid and h.records is not None]
        sent = [
            h.records
            for h in inv.vendors[link.vendor_id].holdings
            if h.category_id == cid and h.records is not None
        ]
        found.append(sum(stated) if stated else (sum(sent) if sent else None))
    return found


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inv=random_inventories(), data=st.data())
def test_breached_fourth_parties_expose_the_records_passed_on_to_them(inv, data):
    party_ids = st.sampled_from(sorted(inv.fourth_parties)) if inv.fourth_parties else st.nothing()
    parties = data.draw(st.sets(party_ids))
    vendors = data.draw(st.sets(st.sampled_from(sorted(inv.vendors))))
    result = compute(inv, vendors, as_of=AS_OF, breached_fourth_party_ids=parties)
    links = [
        link
        for link in inv.links
        if link.subprocessor_id in vendors or link.fourth_party_id in parties
    ]
    assert sorted(
        (e.vendor.id, e.subprocessor.name) for e in result.fourth_party_exposure
    ) == sorted(
        (
            link.vendor_id,
            inv.vendors[link.subprocessor_id].name
            if link.subprocessor_id is not None
            else inv.fourth_parties[link.fourth_party_id].name,
        )
        for link in links
    )
    known = [r for link in links for r in passed_records(inv, link) if r is not None]
    assert result.figures.fourth_party_records == (sum(known) if known else None)


def test_the_text_says_none_under_an_empty_heading_rather_than_leaving_it_blank():
    text = render_text(breach())
    for heading in (
        "Systems reached despite controls:",
        "Data reached despite controls:",
        "Barriers that held:",
    ):
        assert text.split(heading)[1].startswith("\n  none\n"), heading
    held = render_text(breach(cred(1, 1, status="revoked"), since=SINCE))
    assert "Barriers that held:\n  none" not in held

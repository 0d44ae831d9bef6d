"""The incremental portfolio (issue 16): after any inventory change, through any path, the
update computes again only the vendors the change can concern, and gives exactly what a full
refresh gives; a change committed while an update runs is counted by the next one; pages read
what is stored and say "updating" meanwhile."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import add, login_as, text, update_portfolio

from vendor_risk.core.blast_radius import engine
from vendor_risk.db import db, snapshot
from vendor_risk.models import (
    Credential,
    CredentialCopy,
    CredentialKind,
    CredentialStatus,
    DataCategory,
    Federation,
    NetworkZone,
    PortfolioChange,
    Privilege,
    Role,
    Sensitivity,
    SoftwareSupply,
    System,
    SystemData,
    SystemReach,
    SystemZone,
    Vendor,
    VendorData,
    VendorReach,
)
from vendor_risk.services import blast_radius as blast_radius_service
from vendor_risk.services.blast_radius import load_inventory
from vendor_risk.services.portfolio import aggregates as portfolio

NOW = datetime(2026, 6, 1, tzinfo=UTC)
FIGURES = (
    VendorReach.vendor_id,
    VendorReach.systems_despite_controls,
    VendorReach.systems_if_controls_fail,
    VendorReach.categories_despite_controls,
    VendorReach.max_sensitivity,
    VendorReach.inherent_score,
    VendorReach.inherent_tier,
    VendorReach.profile,
    VendorReach.reach_despite,
    VendorReach.reach_if_fail,
)


def stored(session) -> tuple[dict, dict]:
    vendors = {row[0]: tuple(row[1:]) for row in session.execute(sa.select(*FIGURES))}
    systems = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            sa.select(
                SystemReach.system_id,
                SystemReach.vendors_despite_controls,
                SystemReach.vendors_if_controls_fail,
            )
        )
    }
    return vendors, systems


def engine_figures(session) -> tuple[dict, dict]:
    """What the engine says on the whole inventory: the reference."""
    with snapshot(session):
        inventory = load_inventory(session)
    counts = engine.reach_counts_for_all_vendors(inventory, as_of=NOW)
    concentration = engine.concentration(inventory, as_of=NOW)
    return (
        {vendor_id: tuple(found) for vendor_id, found in counts.items()},
        {system_id: tuple(found) for system_id, found in concentration.items()},
    )


def inventory_of(rng: random.Random, session) -> None:
    categories = [
        DataCategory(name=f"Category {n}", sensitivity=rng.choice(list(Sensitivity)))
        for n in range(4)
    ]
    systems = [System(name=f"System {n}", mfa_required=rng.random() < 0.3) for n in range(12)]
    vendors = [Vendor(name=f"Vendor {n}") for n in range(15)]
    zones = [NetworkZone(name="Corporate"), NetworkZone(name="Production")]
    session.add_all([*categories, *systems, *vendors, *zones])
    session.flush()
    for system in systems:
        for category in rng.sample(categories, rng.randint(0, 2)):
            session.add(SystemData(system_id=system.id, data_category_id=category.id, records=7))
    for vendor in vendors[:8]:
        session.add(VendorData(vendor_id=vendor.id, data_category_id=categories[0].id))
    for n in range(40):
        session.add(new_credential(rng, n, vendors, systems))
    session.flush()
    credentials = session.scalars(sa.select(Credential.id)).all()
    for credential_id in rng.sample(credentials, 10):
        session.add(CredentialCopy(credential_id=credential_id, system_id=rng.choice(systems).id))
    session.add(Federation(identity_provider_id=systems[0].id, system_id=systems[1].id))
    session.add(SystemZone(system_id=systems[2].id, zone_id=zones[0].id))
    session.add(SystemZone(system_id=systems[3].id, zone_id=zones[0].id))
    session.add(SoftwareSupply(system_id=systems[4].id, vendor_id=vendors[1].id, software="agent"))
    systems[5].operator_vendor_id = vendors[2].id


def new_credential(rng: random.Random, n: int, vendors, systems) -> Credential:
    interactive = rng.random() < 0.4
    return Credential(
        name=f"credential-{n}",
        kind=CredentialKind.user_account if interactive else CredentialKind.api_token,
        holder_vendor_id=rng.choice(vendors).id if rng.random() < 0.8 else None,
        system_id=rng.choice(systems).id,
        privilege=rng.choice(list(Privilege)),
        interactive=interactive,
        mfa_enforced=interactive and rng.random() < 0.5,
        expires_at=NOW + timedelta(days=rng.randint(-30, 30)) if rng.random() < 0.3 else None,
    )


def one_edit(rng: random.Random, session, n: int) -> str:
    """A random inventory change, written straight to the tables (as any path would)."""
    vendors = session.scalars(sa.select(Vendor).order_by(Vendor.id)).all()
    systems = session.scalars(sa.select(System).order_by(System.id)).all()
    credentials = session.scalars(sa.select(Credential).order_by(Credential.id)).all()
    edit = rng.choice(
        [
            "revoke",
            "expire",
            "new credential",
            "copy",
            "delete credential",
            "federation",
            "operator",
            "system data",
            "mfa",
            "new vendor",
            "delete vendor",
            "software",
            "zone",
            "holder",
        ]
    )
    credential = rng.choice(credentials) if credentials else None
    if edit == "revoke" and credential:
        credential.status = CredentialStatus.revoked
    elif edit == "expire" and credential:
        credential.expires_at = NOW - timedelta(days=1)
    elif edit == "new credential":
        session.add(new_credential(rng, 1000 + n, vendors, systems))
    elif edit == "copy" and credential:
        system = rng.choice(systems)
        if session.get(CredentialCopy, (credential.id, system.id)) is None:
            session.add(CredentialCopy(credential_id=credential.id, system_id=system.id))
    elif edit == "delete credential" and credential:
        session.delete(credential)
    elif edit == "federation":
        idp, target = rng.sample(systems, 2)
        session.add(
            Federation(
                identity_provider_id=idp.id,
                system_id=target.id,
                privilege=rng.choice(list(Privilege)),
                mfa_enforced=rng.random() < 0.5,
            )
        )
    elif edit == "operator":
        rng.choice(systems).operator_vendor_id = rng.choice([None, *(v.id for v in vendors)])
    elif edit == "system data":
        system = rng.choice(systems)
        category = rng.choice(session.scalars(sa.select(DataCategory)).all())
        if session.get(SystemData, (system.id, category.id)) is None:
            session.add(SystemData(system_id=system.id, data_category_id=category.id))
    elif edit == "mfa":
        system = rng.choice(systems)
        system.mfa_required = not system.mfa_required
    elif edit == "new vendor":
        session.add(Vendor(name=f"New vendor {n}"))
    elif edit == "delete vendor" and len(vendors) > 3:
        victim = rng.choice(vendors)
        session.flush()
        try:  # what else refers to it (its scores) may refuse: then the edit is a no-op
            with session.begin_nested():
                session.execute(sa.delete(Vendor).where(Vendor.id == victim.id))
        except sa.exc.IntegrityError:
            pass
        session.expire_all()
    elif edit == "software":
        session.add(
            SoftwareSupply(
                system_id=rng.choice(systems).id,
                vendor_id=rng.choice(vendors).id,
                software=f"tool {n}",
                automatic_updates=rng.random() < 0.5,
            )
        )
    elif edit == "zone":
        system = rng.choice(systems)
        zone = rng.choice(session.scalars(sa.select(NetworkZone)).all())
        if session.get(SystemZone, (system.id, zone.id)) is None:
            session.add(SystemZone(system_id=system.id, zone_id=zone.id))
    elif edit == "holder" and credential:
        credential.holder_vendor_id = rng.choice([None, *(v.id for v in vendors)])
    return edit


@pytest.mark.parametrize("seed", range(4))
def test_the_update_after_random_edits_gives_what_a_full_refresh_gives(app, seed):
    rng = random.Random(seed)
    with app.app_context():
        session = db.session
        inventory_of(rng, session)
        session.commit()
        portfolio.update_pending(session, NOW)  # the first: every vendor
        session.commit()
        for round_ in range(6):
            edits = [one_edit(rng, session, 10 * round_ + n) for n in range(rng.randint(1, 3))]
            session.commit()
            portfolio.update_pending(session, NOW)
            session.commit()
            assert not portfolio.freshness(session).pending
            updated = stored(session)
            # The engine on the whole inventory agrees with what was stored...
            counts, concentration = engine_figures(session)
            assert {v: row[:3] for v, row in updated[0].items()} == counts, edits
            assert updated[1] == concentration, edits
            # ...and so does a full refresh, row for row.
            portfolio.refresh(session, NOW)
            session.commit()
            assert stored(session) == updated, edits


@pytest.mark.parametrize("vendors", [0, 1])
def test_a_refresh_in_chunks_of_no_vendor_or_one_runs_in_one_process(app, vendors):
    with app.app_context():
        session = db.session
        session.add_all(Vendor(name=f"Vendor {n}") for n in range(vendors))
        session.commit()
        aggregates = portfolio.refresh(session, NOW, processes=4)
        session.commit()
        assert len(aggregates.vendors) == vendors
        assert session.scalar(sa.select(sa.func.count()).select_from(VendorReach)) == vendors


@pytest.mark.parametrize("processes", [2, 3])
def test_a_refresh_in_chunks_of_forked_processes_stores_what_one_process_stores(app, processes):
    """`portfolio refresh --processes N`: the vendors in N chunks computed at once, each in a
    process of its own reading the same snapshot (PostgreSQL) through a connection of its own,
    give every row a single process gives, and the parent's connection still works after."""
    with app.app_context():
        session = db.session
        inventory_of(random.Random(11), session)
        session.commit()
        portfolio.refresh(session, NOW)
        session.commit()
        alone = stored(session)
        session.execute(sa.delete(VendorReach))
        session.execute(sa.delete(SystemReach))
        session.commit()
        aggregates = portfolio.refresh(session, NOW, processes=processes)
        session.commit()
        assert len(aggregates.vendors) == 15
        assert stored(session) == alone
        counts, concentration = engine_figures(session)
        assert {v: row[:3] for v, row in alone[0].items()} == counts
        assert alone[1] == concentration
        assert session.scalar(sa.select(sa.func.count()).select_from(VendorReach)) == 15


@pytest.mark.parametrize("processes", [1, 2])
def test_a_refresh_with_nothing_changed_rescores_no_vendor(app, monkeypatch, processes):
    """The stored profiles are compared as the JSON text written (never decoded): equal texts
    on both databases, or every refresh would score all 50,000 vendors again."""
    with app.app_context():
        session = db.session
        inventory_of(random.Random(5), session)
        session.commit()
        portfolio.refresh(session, NOW)
        session.commit()
        rescored = []
        real = portfolio.scoring.after_aggregates

        def recorded(session, changed, now):
            rescored.append(set(changed))
            return real(session, changed, now)

        monkeypatch.setattr(portfolio.scoring, "after_aggregates", recorded)
        before = stored(session)
        portfolio.refresh(session, NOW, processes=processes)
        session.commit()
        assert rescored == [set()]
        assert stored(session) == before


def pending_kinds(session) -> set[tuple[str, int]]:
    return set(session.execute(sa.select(PortfolioChange.kind, PortfolioChange.ref_id)).all())


def test_an_edit_of_what_the_portfolio_does_not_read_computes_nothing(app):
    """Names, owners and notes: no change recorded (the triggers fire on the columns the
    figures, inherent risk and rotation counts read), and the update marks the aggregates
    current for the new inventory version without computing anything."""
    with app.app_context():
        session = db.session
        inventory_of(random.Random(3), session)
        session.commit()
        portfolio.update_pending(session, NOW)
        session.commit()
        before = stored(session)
        system = session.scalars(sa.select(System).order_by(System.id)).first()
        credential = session.scalars(sa.select(Credential).order_by(Credential.id)).first()
        vendor = session.scalars(sa.select(Vendor).order_by(Vendor.id)).first()
        system.owner, system.name = "Platform team", "Renamed system"
        credential.owner, credential.notes, credential.name = "Ops", "checked", "renamed-token"
        vendor.name, vendor.notes = "Renamed vendor", "met them"
        session.commit()
        assert pending_kinds(session) == set()
        state = portfolio.freshness(session)
        assert state.computed_version < state.inventory_version
        assert not state.updating
        done = portfolio.update_pending(session, NOW)
        session.commit()
        assert (done.changes, done.vendors) == (0, 0)
        state = portfolio.freshness(session)
        assert state.computed_version == state.inventory_version
        assert stored(session) == before
        assert portfolio.update_pending(session, NOW) is None
        # What the figures read still records its change.
        system.mfa_required = not system.mfa_required
        credential.privilege = Privilege.admin if credential.privilege != "admin" else "read"
        vendor.criticality = "critical" if vendor.criticality != "critical" else "low"
        session.commit()
        assert pending_kinds(session) >= {
            ("system", system.id),
            ("credential", credential.id),
            ("vendor", vendor.id),
        }


def test_the_credential_update_trigger_watches_every_column_the_portfolio_reads():
    """Revision 5e6f7a8b9c95 lists the columns whose change records a portfolio change; a
    column the portfolio starts reading must join that list (in a new revision), or edits to
    it would leave the aggregates stale."""
    path = next(Path(__file__).parent.parent.glob("migrations/versions/*_5e6f7a8b9c95_*.py"))
    spec = importlib.util.spec_from_file_location("revision_5e6f7a8b9c95", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    # Names and owners are read for explanations only, never for a figure.
    read = set(blast_radius_service._CREDENTIAL_COLUMNS) - {"id", "name", "owner"}
    assert read <= set(revision.READ_ON_UPDATE["credential"])
    assert {"rotation_period_days", "issued_at"} <= set(revision.READ_ON_UPDATE["credential"])


def test_an_edit_to_one_vendor_computes_that_vendor_alone(app):
    with app.app_context():
        session = db.session
        inventory_of(random.Random(7), session)
        session.commit()
        portfolio.update_pending(session, NOW)
        session.commit()
        lonely = Vendor(name="Lonely")
        session.add(lonely)
        session.flush()
        system_id = session.scalars(sa.select(System.id)).first()
        session.add(
            Credential(
                name="lonely-token",
                kind=CredentialKind.api_token,
                holder_vendor_id=lonely.id,
                system_id=system_id,
            )
        )
        session.commit()
        done = portfolio.update_pending(session, NOW)
        session.commit()
        assert done.vendors == 1
        assert session.get(VendorReach, lonely.id).systems_if_controls_fail >= 1


def test_a_change_committed_while_an_update_runs_is_counted_by_the_next(app):
    with app.app_context():
        session = db.session
        inventory_of(random.Random(3), session)
        session.commit()
        portfolio.update_pending(session, NOW)
        session.commit()
        [system_id] = session.scalars(sa.select(System.id).limit(1)).all()
        late = Vendor(name="Late")
        session.add(Vendor(name="Early"))
        session.commit()
        aggregates = portfolio.compute(
            session, NOW, portfolio._concerned_vendors(session, portfolio._pending_changes(session))
        )
        # Another request commits an edit after the update read the inventory.
        other = app.app_context()
        with other:
            db.session.add(late)
            db.session.flush()
            db.session.add(
                Credential(
                    name="late-token",
                    kind=CredentialKind.api_token,
                    holder_vendor_id=late.id,
                    system_id=system_id,
                )
            )
            db.session.commit()
            late_id = late.id
        portfolio.store(session, aggregates, NOW)
        session.commit()
        assert session.get(VendorReach, late_id) is None
        assert portfolio.freshness(session).pending  # the late edit is still to count
        portfolio.update_pending(session, NOW)
        session.commit()
        assert session.get(VendorReach, late_id).systems_if_controls_fail >= 1
        assert not session.scalar(sa.select(sa.func.count()).select_from(PortfolioChange))


def test_pages_say_updating_until_the_update_has_run(app, client, make_user):
    login_as(client, make_user(Role.risk_officer))
    [jira] = add(app, System(name="Jira"))
    [vendor] = add(app, Vendor(name="Keystone"))
    update_portfolio(app)
    for url in ("/inventory/portfolio", "/inventory/vendors", "/risk/"):
        assert "updating" not in text(client.get(url)), url
    add(
        app,
        Credential(
            name="t", kind=CredentialKind.api_token, holder_vendor_id=vendor, system_id=jira
        ),
    )
    for url in ("/inventory/portfolio", "/inventory/vendors", "/risk/"):
        page = text(client.get(url))
        assert "updating after a change to the inventory; last computed" in page, url
    update_portfolio(app)
    page = text(client.get("/inventory/vendors"))
    assert "updating" not in page
    assert "Blast radius of Keystone: 1 systems reached despite controls" in page

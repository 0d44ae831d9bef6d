"""Exposure follows issue 14's edges: a vendor whose only link to us is a system it operates, or
software it supplies that runs on one of our systems, reaches that system with no credential,
and its rating after ``flask portfolio refresh`` weighs that reach. Inherent risk counts the
operated system's data as data the vendor holds, and the operator's or the software's access.

The suite runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND=postgresql."""

from __future__ import annotations

import sqlalchemy as sa
from conftest import add

from vendor_risk.db import db
from vendor_risk.models import (
    Credential,
    CredentialCopy,
    CredentialKind,
    DataCategory,
    Sensitivity,
    SoftwareSupply,
    System,
    SystemData,
    Vendor,
    VendorReach,
)
from vendor_risk.services.assessments import scoring


def refresh(app) -> None:
    result = app.test_cli_runner().invoke(args=["portfolio", "refresh"])
    assert result.exit_code == 0, result.output


def reach_and_rating(app, vendor_id: int):
    with app.app_context():
        reach = db.session.scalar(sa.select(VendorReach).where(VendorReach.vendor_id == vendor_id))
        rating, score = scoring.rating_of(db.session, vendor_id)
        db.session.expunge_all()
        return reach, rating, score


def test_a_vendor_operating_a_system_with_customer_data_is_exposed_by_it(app):
    [saas, bystander] = add(app, Vendor(name="Warehouse SaaS"), Vendor(name="Bystander"))
    [pii] = add(app, DataCategory(name="Customer PII", sensitivity=Sensitivity.critical))
    [warehouse] = add(
        app, System(name="Data warehouse", environment="production", operator_vendor_id=saas)
    )
    add(app, SystemData(system_id=warehouse, data_category_id=pii, records=2_000_000))

    refresh(app)

    reach, rating, score = reach_and_rating(app, saas)
    assert (reach.systems_despite_controls, reach.categories_despite_controls) == (1, 1)
    assert reach.max_sensitivity == 4  # critical
    assert rating.exposure_score > 0
    # The customers' data it keeps in the warehouse is data it holds: nothing is missing.
    assert rating.missing == ""
    assert score.inherent_tier in {"high", "critical"}  # admin over production, critical data
    # A vendor with no link at all has none: the exposure is the warehouse's.
    _, nothing, _ = reach_and_rating(app, bystander)
    assert nothing.exposure_score == 0


def software_vendor(app, *, automatic_updates: bool) -> int:
    [agent] = add(app, Vendor(name="Agent vendor"))
    [secrets] = add(app, DataCategory(name="Secrets", sensitivity=Sensitivity.critical))
    [build, production] = add(
        app,
        System(name="Build server", environment="production"),
        System(name="Production", environment="production"),
    )
    add(app, SystemData(system_id=build, data_category_id=secrets, records=200))
    [deploy] = add(
        app,
        Credential(
            name="deploy-key", kind=CredentialKind.ssh_key, system_id=production, privilege="admin"
        ),
    )
    add(
        app,
        CredentialCopy(credential_id=deploy, system_id=build),
        SoftwareSupply(
            system_id=build,
            vendor_id=agent,
            software="monitoring agent",
            privilege="admin",
            automatic_updates=automatic_updates,
        ),
    )
    return agent


def test_a_vendor_whose_software_runs_on_a_system_is_exposed_by_it(app):
    agent = software_vendor(app, automatic_updates=True)

    refresh(app)

    reach, rating, _ = reach_and_rating(app, agent)
    # The build server, then production with the deploy key stored on it.
    assert (reach.systems_despite_controls, reach.systems_if_controls_fail) == (2, 2)
    assert reach.max_sensitivity == 4
    assert rating.exposure_score > 0


def test_software_taking_approved_updates_only_is_exposed_only_if_the_controls_fail(app):
    agent = software_vendor(app, automatic_updates=False)
    refresh(app)
    approved, approved_rating, _ = reach_and_rating(app, agent)
    assert (approved.systems_despite_controls, approved.systems_if_controls_fail) == (0, 2)
    assert approved.max_sensitivity == 0
    assert approved_rating.exposure_score > 0  # what is reachable if the controls fail

    with app.app_context():
        supply = db.session.scalar(sa.select(SoftwareSupply))
        supply.automatic_updates = True
        db.session.commit()
    refresh(app)
    _, automatic_rating, _ = reach_and_rating(app, agent)
    assert automatic_rating.exposure_score > approved_rating.exposure_score

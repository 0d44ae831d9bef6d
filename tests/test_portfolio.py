"""Portfolio views: vendors ranked by blast radius (super-nodes), systems ranked by how many
vendors reach them (concentration), credentials overdue, inherent tiers; the aggregates behind
them kept up to date by the inventory's own changes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import add, login_as, text, update_portfolio

from vendor_risk.db import db
from vendor_risk.models import (
    Credential,
    CredentialCopy,
    CredentialKind,
    CredentialStatus,
    Criticality,
    DataCategory,
    PortfolioState,
    Privilege,
    Role,
    Sensitivity,
    System,
    Vendor,
    VendorData,
    VendorReach,
)
from vendor_risk.services.demo import IDENTITY_PROVIDER
from vendor_risk.services.portfolio import aggregates as portfolio

TICKETING = "Jira (self-hosted ticketing)"


@pytest.fixture
def officer(client, make_user):
    user = make_user(Role.risk_officer)
    login_as(client, user)
    return user


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


def rows_of(page: str, heading: str) -> str:
    """The part of the page under one heading (up to the next section)."""
    start = page.index(heading)
    end = page.find("<section", start)
    return page[start : end if end != -1 else None]


def test_the_demo_portfolio_puts_the_identity_provider_first_and_the_atlassian_tools_on_top(
    demo, client, officer
):
    page = text(client.get("/inventory/portfolio"))
    super_nodes = rows_of(page, "Vendors with the largest blast radius")
    first_row = super_nodes.split("<tbody>")[1].split("</tr>")[0]
    assert IDENTITY_PROVIDER in first_row
    # Five systems despite controls: the wiki, ticketing, source control and cloud sandbox, and
    # the build pipeline behind source control; not the identity provider (the stolen session
    # token was revoked), which is among the 15 reached only if the controls fail.
    assert re.search(r'<td class="num">5</td>\s*<td class="num">15</td>', first_row)
    concentration = rows_of(page, "Systems reached by the most vendors")
    assert TICKETING in concentration
    rotation = rows_of(page, "Credentials by rotation status")
    assert "credentials overdue" in rotation
    assert "Overdue for rotation" in rotation


def test_figures_follow_an_inventory_change_and_are_not_recomputed_otherwise(app, client, officer):
    [jira, wiki] = add(app, System(name="Jira"), System(name="Wiki"))
    [vendor] = add(app, Vendor(name="Keystone"))
    [token] = add(
        app,
        Credential(
            name="jira-token",
            kind=CredentialKind.api_token,
            holder_vendor_id=vendor,
            system_id=jira,
        ),
    )
    [wiki_key] = add(
        app, Credential(name="wiki-key", kind=CredentialKind.api_token, system_id=wiki)
    )
    add(app, CredentialCopy(credential_id=wiki_key, system_id=jira))

    page = text(client.get("/inventory/vendors?sort=blast_radius&direction=desc"))
    assert "not computed yet" in page  # the page never computes them itself
    assert update_portfolio(app) is not None  # the job after the change
    page = text(client.get("/inventory/vendors?sort=blast_radius&direction=desc"))
    assert "Blast radius of Keystone: 2 systems reached despite controls" in page
    assert "updating" not in page
    with app.app_context():
        first = portfolio.freshness(db.session)

    client.get("/inventory/vendors")
    assert update_portfolio(app) is None  # nothing changed: nothing to compute
    with app.app_context():
        assert portfolio.freshness(db.session) == first

    # Someone revokes the token in the wiki (through any path: here, straight in the table).
    with app.app_context():
        db.session.execute(
            sa.update(Credential)
            .where(Credential.id == wiki_key)
            .values(status=CredentialStatus.revoked)
        )
        db.session.commit()
    page = text(client.get("/inventory/vendors"))
    # Until the update has run, the page shows what is stored and says it is updating.
    assert "Blast radius of Keystone: 2 systems reached despite controls" in page
    assert "updating after a change to the inventory; last computed" in page
    done = update_portfolio(app)
    assert done.vendors == 1  # Keystone reaches the wiki: the only vendor concerned
    page = text(client.get("/inventory/vendors"))
    assert "Blast radius of Keystone: 1 systems reached despite controls, 2 if controls fail" in (
        page
    )
    assert "updating" not in page
    with app.app_context():
        assert portfolio.freshness(db.session).computed_version > first.computed_version
    assert token


def test_an_hour_later_the_figures_are_computed_again(app, client, officer):
    add(app, Vendor(name="Keystone"))
    update_portfolio(app)
    with app.app_context():
        first = portfolio.freshness(db.session)
        assert first.fresh(first.computed_at + timedelta(minutes=59))
        assert not first.fresh(first.computed_at + timedelta(minutes=61))


def test_vendors_filter_and_sort_by_inherent_tier(app, client, officer):
    [prod] = add(app, System(name="Prod cloud"))
    [pii] = add(app, DataCategory(name="Customer PII", sensitivity=Sensitivity.critical))
    [risky, harmless] = add(
        app,
        Vendor(name="Cloud Admin Co", criticality=Criticality.critical),
        # Its intake says it gets no data and no access of ours: known to be harmless (with
        # nothing recorded nor declared, its unknown facts would count at their worst).
        Vendor(
            name="Snack Delivery",
            criticality=Criticality.low,
            declared_risk={"data_sensitivity": 0.0, "data_volume": 0.0, "access": 0.0},
        ),
    )
    add(
        app,
        Credential(
            name="root-key",
            kind=CredentialKind.api_token,
            privilege=Privilege.admin,
            holder_vendor_id=risky,
            system_id=prod,
        ),
        VendorData(vendor_id=risky, data_category_id=pii, records=5_000_000),
    )
    update_portfolio(app)
    critical = text(client.get("/inventory/vendors?tier=critical"))
    assert "Cloud Admin Co" in critical and "Snack Delivery" not in critical
    low = text(client.get("/inventory/vendors?tier=low"))
    assert "Snack Delivery" in low and "Cloud Admin Co" not in low
    by_tier = text(client.get("/inventory/vendors?sort=tier&direction=desc"))
    assert by_tier.index("Cloud Admin Co") < by_tier.index("Snack Delivery")
    portfolio_page = text(client.get("/inventory/portfolio"))
    assert 'href="/inventory/vendors?tier=critical"' in portfolio_page
    bad = client.get("/inventory/vendors?tier=extreme")
    assert bad.status_code == 400
    assert harmless


def test_admin_credentials_into_production_lift_a_vendor_to_at_least_high(app, client, officer):
    [prod] = add(app, System(name="Prod database"))
    # No data of ours, as its intake says: the admin credential alone lifts it.
    [vendor] = add(
        app,
        Vendor(
            name="Tiny DBA",
            criticality=Criticality.low,
            declared_risk={"data_sensitivity": 0.0, "data_volume": 0.0},
        ),
    )
    add(
        app,
        Credential(
            name="dba",
            kind=CredentialKind.user_account,
            privilege=Privilege.admin,
            holder_vendor_id=vendor,
            system_id=prod,
        ),
    )
    update_portfolio(app)
    with app.app_context():
        tier = db.session.scalar(
            sa.select(VendorReach.inherent_tier).where(VendorReach.vendor_id == vendor)
        )
    assert tier == "high"


def test_the_overdue_list_links_to_the_filtered_credentials(app, client, officer):
    [jira] = add(app, System(name="Jira"))
    long_ago = datetime.now(UTC) - timedelta(days=400)
    add(
        app,
        Credential(
            name="stale-token",
            kind=CredentialKind.api_token,
            system_id=jira,
            last_rotated_at=long_ago,
            rotation_period_days=90,
        ),
        Credential(name="fresh-token", kind=CredentialKind.api_token, system_id=jira),
    )
    update_portfolio(app)
    page = text(client.get("/inventory/portfolio"))
    overdue = rows_of(page, "Credentials by rotation status")
    assert "stale-token" in overdue and "fresh-token" not in overdue
    assert 'href="/inventory/credentials?rotation=overdue"' in overdue
    listed = text(client.get("/inventory/credentials?rotation=overdue"))
    assert "stale-token" in listed and "fresh-token" not in listed


def test_an_empty_portfolio_says_so(app, client, officer):
    page = text(client.get("/inventory/portfolio"))
    assert "not computed yet" in page
    update_portfolio(app)
    page = text(client.get("/inventory/portfolio"))
    assert "not computed yet" not in page and "updating" not in page
    assert "No vendor holds a credential into our systems." in page
    assert "No vendor's breach reaches any system." in page
    assert "No credential is overdue for rotation." in page


def test_refresh_command_recomputes_and_reports(demo):
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["portfolio", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Computed 13 vendors and 16 systems" in result.output
    one = runner.invoke(args=["portfolio", "refresh", "--processes", "1"])
    assert one.exit_code == 0 and "(1 process)." in one.output
    two = runner.invoke(args=["portfolio", "refresh", "--processes", "2"])
    assert two.exit_code == 0 and "Computed 13 vendors and 16 systems" in two.output
    assert "(2 processes)." in two.output
    refused = runner.invoke(args=["portfolio", "refresh", "--processes", "0"])
    assert refused.exit_code == 2 and "0 is not in the range 1<=x<=64" in refused.output
    again = runner.invoke(args=["portfolio", "refresh", "--if-stale"])
    assert "fresh" in again.output
    with demo.app_context():
        state = db.session.get(PortfolioState, 1)
        assert state.computed_version == state.inventory_version
        assert sum(state.rotation_counts.values()) == db.session.scalar(
            sa.select(sa.func.count()).select_from(Credential)
        )

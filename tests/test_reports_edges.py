"""The assessment PDF explains issue 14's edges, read back from the PDF's text as a reader
sees it: sign-in through the identity provider ("trusted by"), a system the vendor operates
("operates"), the vendor's software on our systems ("runs software supplied by"), network reach
("can connect to"), and the controls that stopped them (a revoked session token, updates we
approve)."""

import pytest
import sqlalchemy as sa
from test_reports import build_assessment, contains, pdf_pages, rendered

from vendor_risk.db import db
from vendor_risk.models import Vendor
from vendor_risk.services.demo import IDENTITY_PROVIDER


@pytest.fixture
def demo_app(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


def assessment_text(app, name: str) -> str:
    with app.app_context():
        vendor_id = db.session.scalar(sa.select(Vendor.id).where(Vendor.name == name))
    return "\n".join(pdf_pages(rendered(app, build_assessment(app, vendor_id)).pdf))


def test_the_assessments_explain_sign_in_operated_systems_software_and_networks(demo_app):
    keystone = assessment_text(demo_app, IDENTITY_PROVIDER)
    # The session token stolen from a support case was revoked before the breach began: the
    # identity provider's tenant held, among the barriers that held.
    assert contains(
        keystone,
        "har-session-it-admin (session token, admin) into Identity provider tenant: revoked",
    )
    assert not contains(
        keystone,
        f"{IDENTITY_PROVIDER} holds har-session-it-admin (session token, admin) -> opens "
        "Identity provider tenant",
    )
    # Reached only if the controls fail, through the identity provider's sign-in.
    assert contains(
        keystone, "-> opens Identity provider tenant -> trusted by HR system for sign-in"
    )
    # No sign-in through the tenant was tried: no federation is among the barriers that held.
    assert not contains(keystone, "trusts Identity provider tenant for sign-in")

    crm = assessment_text(demo_app, "Pipeline CRM")
    assert contains(crm, "Pipeline CRM operates CRM -> stores crm-billing-sync")
    assert contains(
        crm, "-> can connect to Payment terminals (zone Corporate network, no sign-in needed)"
    )
    assert contains(crm, "stored in CRM")  # why the billing token is to rotate

    agent = assessment_text(demo_app, "StatusWatch")
    assert contains(
        agent,
        "Build pipeline runs software supplied by StatusWatch (StatusWatch monitoring agent, "
        "admin, updates applied automatically)",
    )
    runner = assessment_text(demo_app, "BuildRight CI")
    assert contains(
        runner, "Build pipeline runs software supplied by BuildRight CI: updates we approve"
    )

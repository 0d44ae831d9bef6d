"""The HTML application: the shell (shell: headers, errors; access: the guard of every area;
ratelimits; the vendor field) and one package per area, each a blueprint with its views and
forms."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Every area of the HTML application, in the order their pages are matched."""
    from .account.views import bp as account_bp
    from .admin.views import bp as admin_bp
    from .auth.sso import bp as sso_bp
    from .auth.views import bp as auth_bp
    from .findings.views import bp as findings_bp
    from .health.views import bp as health_bp
    from .incidents.views import bp as incidents_bp
    from .inventory.views import bp as inventory_bp
    from .invites.views import bp as invites_bp
    from .library.views import bp as library_bp
    from .main.views import bp as main_bp
    from .notifications.views import bp as notifications_bp
    from .portal import findings_views, views  # noqa: F401 - their routes join the blueprint
    from .portal.blueprint import bp as portal_bp
    from .portal.intake_views import bp as intake_bp
    from .procurement.views import bp as procurement_bp
    from .reports.views import bp as reports_bp
    from .requests.views import bp as requests_bp
    from .review.views import bp as review_bp
    from .risk.views import bp as risk_bp
    from .workbooks.views import portal_bp as portal_workbooks_bp
    from .workbooks.views import staff_bp as request_workbooks_bp

    for blueprint in (
        auth_bp,
        main_bp,
        account_bp,
        notifications_bp,
        admin_bp,
        procurement_bp,
        risk_bp,
        portal_bp,
        intake_bp,
        inventory_bp,
        incidents_bp,
        library_bp,
        requests_bp,
        invites_bp,
        review_bp,
        findings_bp,
        portal_workbooks_bp,
        request_workbooks_bp,
        reports_bp,
        sso_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)

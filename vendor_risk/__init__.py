"""vendor-risk: what each vendor holds, how well it protects it, and what its breach reaches."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)

    from . import config

    config.load(app, test_config)
    if app.config["PROXY_COUNT"]:
        # The client's address and scheme as the trusted proxies saw them. Their host only
        # when a setting says so, and then Flask checks it against TRUSTED_HOSTS; links in
        # emails never depend on it (config.base_url).
        n = app.config["PROXY_COUNT"]
        x_host = n if app.config["TRUST_FORWARDED_HOST"] else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=x_host)

    from . import access, db, web
    from .extensions import csrf, limiter, login_manager
    from .ratelimits import audit_breach
    from .services import accounts

    app.config["RATELIMIT_ON_BREACH_CALLBACK"] = audit_breach
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."

    @login_manager.user_loader
    def load_user(token: str):
        return accounts.get_by_session_token(db.db.session, token)

    web.init_app(app)
    app.before_request(access.gate)

    from .account.views import bp as account_bp
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .findings.views import bp as findings_bp
    from .incidents.views import bp as incidents_bp
    from .inventory.views import bp as inventory_bp
    from .invites.views import bp as invites_bp
    from .library.views import bp as library_bp
    from .main.views import bp as main_bp
    from .portal.intake_views import bp as intake_bp
    from .portal.views import bp as portal_bp
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
    ):
        app.register_blueprint(blueprint)

    from .cli import register

    register(app)
    return app

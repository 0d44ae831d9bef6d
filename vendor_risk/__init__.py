"""vendor-risk: what each vendor holds, how well it protects it, and what its breach reaches."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)

    from . import config

    config.load(app, test_config)
    from . import logs

    logs.install(app.config["LOG_FORMAT"])  # one handler: request ids on, secrets masked
    if app.config["PROXY_COUNT"]:
        # The client's address and scheme as the trusted proxies saw them. Their host only
        # when a setting says so, and then Flask checks it against TRUSTED_HOSTS; links in
        # emails never depend on it (config.base_url).
        n = app.config["PROXY_COUNT"]
        x_host = n if app.config["TRUST_FORWARDED_HOST"] else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=x_host)

    from . import db, web
    from .extensions import csrf, limiter, login_manager
    from .services import mail
    from .services.accounts import users as accounts
    from .web import access, shell, slashes
    from .web.ratelimits import audit_breach

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

    shell.init_app(app)
    mail.init_app(app)
    app.before_request(slashes.redirect_to_canonical_form)  # before the gate: a 404 otherwise
    app.before_request(access.gate)

    web.register_blueprints(app)

    from . import jobs

    jobs.init_app(app)  # the queue, built when first used

    from .cli import register

    register(app)
    return app

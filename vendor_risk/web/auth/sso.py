"""Single sign-on for staff (OpenID Connect, docs/sso.md): the button's POST sends the browser
to the identity provider (authorization code flow with PKCE, state and nonce, by Authlib's
client); the provider sends it back to the callback, which validates the ID token (issuer,
audience, signature by the provider's JWKS, expiry, nonce) and hands its claims to
``services.accounts.sso``. The session is then established as after a password: the second
factor asked unless the provider asserted one.

Public endpoints (``access.PUBLIC_ENDPOINTS``); both answer 404 when single sign-on is not
configured.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from ...db import db
from ...models import AuditAction, AuditOutcome
from ...services import audit, mail
from ...services.accounts import sso as accounts_sso
from .. import ratelimits
from ..access import complete_login, home_url, request_actor, safe_next, start_pending
from .forms import SsoForm

bp = Blueprint("sso", __name__, url_prefix="/auth/sso")
log = logging.getLogger(__name__)

CLIENT_NAME = "idp"
EXTENSION = "vendor_risk.sso"
# Seconds of clock difference tolerated between this machine and the provider.
LEEWAY = 60
NEXT_KEY = "sso_next"


def policy() -> accounts_sso.SsoPolicy:
    return accounts_sso.SsoPolicy.from_config(current_app.config)


def _client():
    """Authlib's client for the configured provider, made once per app (it keeps the
    discovery document and the JWKS it fetched)."""
    client = current_app.extensions.get(EXTENSION)
    if client is None:
        # Imported here: the app starts without Authlib's imports unless SSO is used.
        from authlib.integrations.flask_client import OAuth

        cfg = current_app.config
        oauth = OAuth()
        oauth.init_app(current_app._get_current_object())
        client = oauth.register(
            CLIENT_NAME,
            client_id=cfg["SSO_CLIENT_ID"],
            client_secret=cfg["SSO_CLIENT_SECRET"],
            server_metadata_url=cfg["SSO_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": "openid email profile",
                "code_challenge_method": "S256",
                "timeout": 10,
            },
        )
        current_app.extensions[EXTENSION] = client
    return client


def _enabled_or_404() -> None:
    if not policy().enabled:
        abort(404)


def _refusal(reason: str, message: str, status: int):
    """The page a refused sign-in shows; the refusal is audited by the caller or here."""
    return render_template("auth/sso_refused.html", message=message, label=_label()), status


def _label() -> str:
    return current_app.config["SSO_LABEL"]


def _audit_failure(reason: str, detail: str) -> None:
    audit.record(
        db.session,
        AuditAction.sso_refused,
        actor=request_actor(),
        outcome=AuditOutcome.denied,
        object_type="user",
        details={"reason": reason, "detail": detail[:200]},
    )
    db.session.commit()


@bp.post("/login")
@ratelimits.sso_per_address
def login():
    _enabled_or_404()
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = SsoForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.login"))
    from requests import RequestException

    client = _client()
    next_url = safe_next(request.args.get("next"))
    redirect_uri = mail.absolute_url("sso.callback")
    try:
        authorization = client.create_authorization_url(redirect_uri)
    except (RequestException, ValueError, KeyError, RuntimeError) as exc:
        # The provider unreachable, or its discovery document not one.
        log.warning("single sign-on: the provider's discovery document failed: %s", exc)
        _audit_failure("provider unreachable", type(exc).__name__)
        return _refusal(
            "provider unreachable",
            f"{_label()} cannot be reached just now. Try again in a moment.",
            502,
        )
    # The state, nonce and PKCE verifier, kept in the signed session until the callback.
    client.save_authorize_data(redirect_uri=redirect_uri, **authorization)
    if next_url:
        session[NEXT_KEY] = next_url
    else:
        session.pop(NEXT_KEY, None)
    # A page that moves on to the provider (the Refresh header, and a link), not a redirect:
    # browsers check a form's redirects against the login page's CSP form-action ('self'),
    # which the provider's address is not, and the login page keeps its strict policy.
    url = authorization["url"]
    response = make_response(
        render_template("auth/sso_redirect.html", url=url, label=_label()), 200
    )
    response.headers["Refresh"] = f"0; url={url}"
    return response


@bp.get("/callback")
@ratelimits.sso_per_address
def callback():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    if not policy().enabled:
        # A provider's late answer after single sign-on was turned off.
        flash("Single sign-on is not in use: log in with your password.", "info")
        return redirect(url_for("auth.login"))
    claims, failure = _validated_claims()
    if failure is not None:
        reason, detail = failure
        _audit_failure(reason, detail)
        return _refusal(reason, _FAILURE_MESSAGES.get(reason, _FAILURE_MESSAGES["invalid"]), 400)
    next_url = safe_next(session.pop(NEXT_KEY, None))
    try:
        result = accounts_sso.sign_in(db.session, claims, policy=policy(), actor=request_actor())
    except accounts_sso.SsoRefused as refused:
        db.session.commit()  # the refusal's audit event, and nothing else
        return _refusal(refused.reason, refused.message, 403)
    user = result.user
    db.session.commit()
    if result.mfa_asserted:
        # The session is renewed exactly as after a password and a second factor.
        session["next"] = next_url
        return redirect(complete_login(user))
    # The provider did not assert a second factor: ours is asked, as after a password.
    start_pending(user, next_url)
    return redirect(url_for("auth.mfa" if user.mfa_enrolled else "auth.enrol"))


_FAILURE_MESSAGES = {
    "provider error": "The identity provider did not sign you in. Try again, or ask an "
    "administrator if it keeps happening.",
    "state mismatch": "This sign-in was not started from this browser, or it took too long. "
    "Start again from the login page.",
    "invalid": "The identity provider's answer could not be trusted, so you are not signed in. "
    "Start again from the login page; if it happens again, tell an administrator.",
    "provider unreachable": "The identity provider cannot be reached just now. Try again in "
    "a moment.",
}


def _validated_claims():
    """The claims of the provider's ID token once every check passed, or (None, (reason,
    detail)) naming the failure for the audit trail."""
    from authlib.integrations.base_client import MismatchingStateError, OAuthError
    from joserfc.errors import JoseError
    from requests import RequestException

    client = _client()
    issuer = current_app.config["SSO_ISSUER"]
    # Authlib checks the audience only through ``azp``: a token for another audience that
    # names this client as its authorized party would pass. The audience is required here.
    claims_options = {
        "iss": {"essential": True, "values": [issuer]},
        "aud": {"essential": True, "values": [current_app.config["SSO_CLIENT_ID"]]},
        "sub": {"essential": True},
    }
    try:
        metadata = client.load_server_metadata()
        if metadata.get("issuer") != issuer:
            # OpenID Connect Discovery 4.3: the document must name the issuer configured.
            return None, ("invalid", "discovery document names another issuer")
        token = client.authorize_access_token(claims_options=claims_options, leeway=LEEWAY)
    except MismatchingStateError:
        return None, ("state mismatch", "state")
    except OAuthError as exc:
        return None, ("provider error", str(exc.error or exc.description or "error"))
    except JoseError as exc:
        return None, ("invalid", f"id token: {exc.error}: {exc.description or ''}")
    except RequestException as exc:
        return None, ("provider unreachable", type(exc).__name__)
    except (ValueError, KeyError, TypeError) as exc:
        return None, ("invalid", type(exc).__name__)
    claims = token.get("userinfo")
    if not claims:
        return None, ("invalid", "no id token")
    return dict(claims), None

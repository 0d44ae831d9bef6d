"""A small OpenID Connect provider for the tests, built with Authlib's server parts and served
over real HTTP on 127.0.0.1 (werkzeug's server in a thread): discovery document, JWKS with an
RS256 key made for the run, an authorization endpoint that approves the configured test user at
once (no login page), and a token endpoint that issues the ID token.

The app under test talks to it as to any provider: its Authlib client fetches the discovery
document and the keys, and exchanges the code (with its PKCE verifier and client secret) over
HTTP. A test changes ``user`` (the claims of whoever "signs in"), ``amr``/``acr``, or
``tamper`` (claims written over the ID token's own, to forge a wrong nonce, issuer, audience or
expiry), or signs with a key the JWKS does not hold (``sign_with_foreign_key``).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant as _AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode as _OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

KID = "test-key-1"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    amr: list[str] | None
    acr: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_amr(self):
        return self.amr

    def get_acr(self):
        return self.acr


@dataclass
class Provider:
    """The provider's state, read by its endpoints at each request (tests change it)."""

    issuer: str = ""
    client_id: str = "vendor-risk"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uri: str = "http://127.0.0.1:5000/auth/sso/callback"
    user: dict[str, Any] = field(default_factory=dict)
    amr: list[str] | None = None
    acr: str | None = None
    tamper: dict[str, Any] = field(default_factory=dict)
    sign_with_foreign_key: bool = False
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": KID, "use": "sig"}, private=True)
    )
    foreign_key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": KID, "use": "sig"}, private=True)
    )
    codes: dict[str, Code] = field(default_factory=dict)
    # What the authorization endpoint received, for the tests' assertions (PKCE, nonce).
    authorization_requests: list[dict[str, str]] = field(default_factory=list)

    def settings(self, **overrides) -> dict:
        """The app's settings that point it at this provider."""
        return {
            "SSO_ISSUER": self.issuer,
            "SSO_CLIENT_ID": self.client_id,
            "SSO_CLIENT_SECRET": self.client_secret,
            "SSO_LABEL": "Test IdP",
            "SSO_ROLES_CLAIM": "groups",
            "SSO_ROLE_MAP": {
                "vr-admins": "admin",
                "vr-risk": "risk_officer",
                "vr-procurement": "procurement",
            },
        } | overrides


def _grants(provider: Provider):
    class AuthorizationCodeGrant(_AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic",)

        def save_authorization_code(self, code, req):
            data = req.payload.data
            provider.codes[code] = Code(
                code=code,
                client_id=req.client.client_id,
                redirect_uri=req.payload.redirect_uri,
                scope=req.scope,
                user=dict(req.user),
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                amr=provider.amr,
                acr=provider.acr,
            )

        def query_authorization_code(self, code, client):
            item = provider.codes.get(code)
            if item is not None and item.client_id == client.client_id:
                return item
            return None

        def delete_authorization_code(self, authorization_code):
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class OpenIDCode(_OpenIDCode):
        def exists_nonce(self, nonce, req):
            return any(c.nonce == nonce for c in provider.codes.values())

        def resolve_client_private_key(self, client):
            return provider.foreign_key if provider.sign_with_foreign_key else provider.key

        def get_client_algorithm(self, client):
            return "RS256"

        def get_client_claims(self, client):
            return {"iss": provider.issuer, "aud": [client.get_client_id()]}

        def generate_user_info(self, user, scope):
            # Written last over the token's claims: the place to forge one.
            return UserInfo({**user, **provider.tamper})

    return AuthorizationCodeGrant, OpenIDCode


def provider_app(provider: Provider) -> Flask:
    app = Flask("test_oidc_provider")
    server = AuthorizationServer(
        app,
        query_client=lambda client_id: (
            Client(provider.client_id, provider.client_secret, [provider.redirect_uri])
            if client_id == provider.client_id
            else None
        ),
        save_token=lambda token, req: None,
    )
    grant, openid = _grants(provider)
    server.register_grant(grant, [openid(require_nonce=True), CodeChallenge(required=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery():
        base = provider.issuer.rstrip("/")
        return jsonify(
            issuer=provider.issuer,
            authorization_endpoint=f"{base}/authorize",
            token_endpoint=f"{base}/token",
            jwks_uri=f"{base}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            scopes_supported=["openid", "email", "profile"],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(keys=[provider.key.as_dict(private=False)])

    @app.get("/authorize")
    def authorize():
        provider.authorization_requests.append(request.args.to_dict())
        # No login page: the configured user is signed in and consents at once.
        grant = server.get_consent_grant(end_user=provider.user)
        return server.create_authorization_response(grant=grant, grant_user=provider.user)

    @app.post("/token")
    def token():
        return server.create_token_response()

    return app


class RunningProvider:
    """The provider served on 127.0.0.1 in a thread until :meth:`stop`."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self.server = make_server("127.0.0.1", 0, provider_app(provider), threaded=True)
        provider.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

"""Single sign-on in a real browser: chromium presses "Sign in with ...", is sent to the
OpenID Connect provider on loopback (tests/oidc_provider.py), comes back to the app served on
loopback, and lands on the home page of the role the provider's groups grant."""

from __future__ import annotations

import re

from browser import launched, new_page, serving
from oidc_provider import Provider, RunningProvider


def test_a_member_of_staff_signs_in_through_the_provider_in_a_browser(make_app, chromium):
    running = RunningProvider(
        Provider(
            user={
                "sub": "00u-browser",
                "email": "marian@example.com",
                "email_verified": True,
                "name": "Marian",
                "groups": ["vr-risk"],
            },
            amr=["pwd", "mfa"],
        )
    )
    idp = running.provider
    app = make_app(**idp.settings())
    errors: list[str] = []
    try:
        with serving(app) as base, launched(chromium) as browser:
            idp.redirect_uri = f"{base}/auth/sso/callback"
            page = new_page(browser.new_context(), errors)
            page.goto(f"{base}/auth/login")
            page.get_by_role("button", name="Sign in with Test IdP").click()
            page.wait_for_url(re.compile(r".*/risk/$"))
            assert page.url == f"{base}/risk/"
            assert "Marian" in page.content() or "marian@example.com" in page.content()

            # A refused sign-in is a page a person can read, not an error.
            page.context.clear_cookies()
            idp.user["groups"] = ["marketing"]
            page.goto(f"{base}/auth/login")
            page.get_by_role("button", name="Sign in with Test IdP").click()
            page.wait_for_url(re.compile(r".*/auth/sso/callback.*"))
            assert "does not give you any role in vendor-risk" in page.inner_text("main")
    finally:
        running.stop()
    assert errors == []

"""The password policy, argon2id hashing and the TOTP / recovery-code rules, without the web."""

import time

import pyotp
import pytest
from argon2 import PasswordHasher

from vendor_risk.services.accounts import mfa, passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters"),
        ("password1234", "commonly used"),
        ("Password1234!", "commonly used"),
        ("qwertyuiop123", "commonly used"),
        ("aaaaaaaaaaaaaaaa", "too few"),
        ("x" * 1025, "at most 1024"),
        ("pat@example.com", "name or email"),
        ("pat@example.com is me", "name or email"),
        ("my vendor-risk account", "name of this application"),
    ],
)
def test_policy_refuses(password, message):
    problems = passwords.password_problems(password, email="pat@example.com", name="Pat")
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "twelve chars",
        "no-composition-rules-needed",
        # 128 characters: long passphrases are welcome
        ("the quick brown fox jumps over the lazy dog " * 3)[:128],
        "Ünïcödé pässwörd ✓",
    ],
)
def test_policy_accepts(password):
    assert passwords.password_problems(password, email="pat@example.com") == []


def test_argon2id_hash_and_rehash_when_parameters_change(make_app):
    weak = make_app(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024)
    strong = make_app(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=2048)
    with weak.app_context():
        stored = passwords.hash_password("correct horse battery staple")
        assert stored.startswith("$argon2id$")
        assert passwords.verify_password(stored, "correct horse battery staple")
        assert not passwords.verify_password(stored, "correct horse battery stapl")
        assert not passwords.verify_password("not a hash", "anything at all")
        assert not passwords.needs_rehash(stored)
    with strong.app_context():
        assert passwords.needs_rehash(stored)


def test_login_rehashes_a_password_hashed_with_old_parameters(make_app, make_user):
    from vendor_risk.db import db
    from vendor_risk.models import Role, User

    user = make_user(Role.admin)  # hashed with the test parameters (time cost 1)
    app = make_app(ARGON2_TIME_COST=2)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": user.password})
    with app.app_context():
        assert "t=2," in db.session.get(User, user.id).password_hash


def test_totp_window_is_one_step_each_way():
    secret = mfa.new_totp_secret()
    totp = pyotp.TOTP(secret)
    now = time.time()
    step = mfa.current_step(now)
    assert mfa.matching_step(secret, totp.at(now), None, now) == step
    assert mfa.matching_step(secret, totp.at(now - 30), None, now) == step - 1
    assert mfa.matching_step(secret, totp.at(now + 30), None, now) == step + 1
    assert mfa.matching_step(secret, totp.at(now - 60), None, now) is None
    assert mfa.matching_step(secret, totp.at(now + 60), None, now) is None
    assert mfa.matching_step(secret, " ".join(totp.at(now)), None, now) == step
    assert mfa.matching_step(secret, "abcdef", None, now) is None


def test_totp_step_already_used_is_a_replay():
    secret = mfa.new_totp_secret()
    now = time.time()
    step = mfa.current_step(now)
    code = pyotp.TOTP(secret).at(now)
    assert mfa.matching_step(secret, code, step, now) is None
    assert mfa.matching_step(secret, code, step - 1, now) == step


KEY = mfa.recovery_code_key("test secret key, not for production")


def test_recovery_codes_are_random_distinct_and_stored_as_keyed_salted_digests():
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    codes = mfa.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    hashes = [mfa.hash_recovery_code(c, KEY) for c in codes]
    assert all(h.startswith("hmac-sha256$") for h in hashes)
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)  # never in clear
    assert mfa.hash_recovery_code(codes[0], KEY) != hashes[0]  # salted
    assert mfa.match_recovery_code(hashes, codes[0].upper(), KEY, hasher) == hashes[0]
    assert mfa.match_recovery_code(hashes, codes[0].replace("-", " "), KEY, hasher) == hashes[0]
    assert mfa.match_recovery_code(hashes[1:], codes[0], KEY, hasher) is None
    assert mfa.match_recovery_code(hashes, "aaaa-bbbb-cccc-dddd", KEY, hasher) is None
    assert mfa.match_recovery_code(hashes, "not a code at all", KEY, hasher) is None


def test_recovery_code_digests_need_the_apps_key():
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    [code] = mfa.new_recovery_codes()[:1]
    stored = [mfa.hash_recovery_code(code, KEY)]
    other_key = mfa.recovery_code_key("another secret key, another deployment")
    assert mfa.match_recovery_code(stored, code, other_key, hasher) is None
    assert mfa.match_recovery_code(stored, code, KEY, hasher) == stored[0]


def test_codes_stored_as_argon2id_before_keep_working_beside_new_ones():
    """Hashes stored before issue 15 are argon2id: their plain codes are unknown, so they are
    verified as they are until used or replaced."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    old, new = mfa.new_recovery_codes()[:2]
    stored = [hasher.hash(mfa.normalise_recovery_code(old)), mfa.hash_recovery_code(new, KEY)]
    assert mfa.match_recovery_code(stored, old, KEY, hasher) == stored[0]
    assert mfa.match_recovery_code(stored, new, KEY, hasher) == stored[1]
    assert mfa.match_recovery_code(stored, "aaaa-bbbb-cccc-dddd", KEY, hasher) is None
    broken = ["hmac-sha256$zz$00", "hmac-sha256$", "hmac-sha256$00$é", "plain-text", ""]
    assert mfa.match_recovery_code(broken, new, KEY, hasher) is None


def test_enrolment_qr_code_is_plain_svg():
    svg = mfa.qr_svg(mfa.provisioning_uri(mfa.new_totp_secret(), "pat@example.com", "vendor-risk"))
    assert svg.startswith("<svg") and "<title>" in svg
    assert "style=" not in svg and "<script" not in svg

"""Issue 15: several roles per user, the admin's user edit page (a new address confirmed by its
owner), the password someone else chose replaced at first login, and the first-run checklist
on the admin's home page."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from conftest import PASSWORD, add, deliver, events, get, login_as, text

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db, utcnow
from vendor_risk.models import DataCategory, Role, System, User, UserRole, Vendor
from vendor_risk.services import ValidationFailed
from vendor_risk.services.accounts import users as accounts
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import library as questionnaires

BASE_URL = "http://vr.test"
NEW_PASSWORD = "a long passphrase of four words"
CONFIRM_LINK = re.compile(r"http://vr\.test(/auth/email/(\S+))")
ACTOR = Actor.system("test")


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(**smtp_server.config, BASE_URL=BASE_URL)


def give(app, user, *roles: Role) -> None:
    add(app, *(UserRole(user_id=user.id, role=role) for role in roles))


def menu(response) -> list[str]:
    """The labels of the main navigation, in order."""
    nav = re.search(r'<nav[^>]*aria-label="Main"[^>]*>(.*?)</nav>', text(response), re.S)
    source = nav.group(1) if nav else text(response)
    return [
        re.sub(r"<[^>]+>", "", label).strip() for label in re.findall(r"<a [^>]*>(.*?)</a>", source)
    ]


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


# ---- several roles ----------------------------------------------------------------------------


def test_a_user_holding_two_roles_reaches_both_areas_and_sees_both_menus(app, client, make_user):
    founder = make_user(Role.admin)
    give(app, founder, Role.risk_officer)
    login_as(client, founder)
    home = client.get("/admin/")
    assert home.status_code == 200
    assert client.get("/risk/").status_code == 200
    assert client.get("/review/").status_code in {200, 302}
    assert client.get("/procurement/").status_code == 403  # not held
    labels = menu(home)
    assert "Users" in labels and "Review" in labels and "Risk home" in labels
    assert labels.index("Users") < labels.index("Review")  # the primary role's menu first
    assert len(labels) == len(set(labels))  # each page once
    assert "Admin, Risk officer" in text(home)


def test_staff_with_role_counts_primary_and_additional_roles_of_active_users(app, make_user):
    officer = make_user(Role.risk_officer, email="officer@example.com")
    founder = make_user(Role.admin, email="founder@example.com")
    give(app, founder, Role.risk_officer)
    gone = make_user(Role.admin, email="gone@example.com", active=False)
    give(app, gone, Role.risk_officer)
    make_user(Role.procurement, email="buyer@example.com")
    with app.app_context():
        found = [u.email for u in accounts.staff_with_role(db.session, Role.risk_officer)]
    assert found == ["founder@example.com", "officer@example.com"]
    assert officer.email in found  # the primary holder is among them


def test_a_vendor_contact_cannot_hold_a_staff_role(app, client, make_user, make_vendor):
    vendor = make_vendor("Keystone")
    contact = make_user(Role.vendor_contact, vendor_id=vendor, email="jane@keystone.example")
    with app.app_context():
        user = db.session.get(User, contact.id)
        with pytest.raises(ValidationFailed) as refused:
            accounts.grant_roles(db.session, user, {Role.risk_officer}, actor=ACTOR)
        assert "vendor contact" in str(refused.value)
        with pytest.raises(ValidationFailed):
            accounts.update_user(
                db.session,
                user,
                name=user.name,
                email=user.email,
                role=Role.vendor_contact,
                roles={Role.vendor_contact, Role.admin},
                actor=ACTOR,
            )
        db.session.rollback()
    # The database refuses the vendor-contact role as an additional one.
    with pytest.raises(sa.exc.IntegrityError):
        give(app, make_user(Role.procurement), Role.vendor_contact)
    # The edit page offers a contact no role, and a forged form gives them none.
    admin = make_user(Role.admin)
    login_as(client, admin)
    page = client.get(f"/admin/users/{contact.id}/edit")
    assert 'name="roles"' not in page.get_data(as_text=True)
    saved = client.post(
        f"/admin/users/{contact.id}/edit",
        data={"name": "Jane", "email": contact.email, "roles": ["admin"], "role": "admin"},
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(User, contact.id).roles == {Role.vendor_contact}


# ---- the admin edits a user -------------------------------------------------------------------


def test_the_admin_edits_name_and_roles_and_both_are_audited(app, client, make_user):
    admin = make_user(Role.admin)
    target = make_user(Role.procurement, email="pat@example.com")
    login_as(client, admin)
    form = client.get(f"/admin/users/{target.id}/edit").get_data(as_text=True)
    assert re.search(r'value="procurement" checked> Procurement</label>', form)
    assert re.search(r'value="risk_officer"> Risk officer</label>', form)
    saved = client.post(
        f"/admin/users/{target.id}/edit",
        data={
            "name": "Pat Doe",
            "email": "pat@example.com",
            "roles": ["procurement", "risk_officer"],
            "role": "risk_officer",
        },
    )
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"])
    assert "Pat Doe" in text(page) and "Risk officer, Procurement" in text(page)
    [event] = events(app, "admin.user.updated")
    assert event.actor_id == admin.id and event.object_id == str(target.id)
    changes = event.details["changes"]
    assert changes["name"] == {"old": "Pat", "new": "Pat Doe"}
    assert changes["roles"] == {"old": ["procurement"], "new": ["risk_officer", "procurement"]}
    assert changes["home_role"] == {"old": "procurement", "new": "risk_officer"}
    # Their home page is now the risk officer's.
    user_client = app.test_client()
    login_as(user_client, target)
    assert user_client.get("/auth/login").headers["Location"] == "/risk/"


def test_edit_errors_show_at_their_fields_and_nothing_is_saved(app, client, make_user):
    admin = make_user(Role.admin)
    make_user(Role.risk_officer, email="taken@example.com")
    target = make_user(Role.procurement, email="pat@example.com")
    login_as(client, admin)
    refused = client.post(
        f"/admin/users/{target.id}/edit",
        data={"name": " ", "email": "TAKEN@example.com", "role": "admin"},
    )
    assert refused.status_code == 400
    page = text(refused)
    assert "Another user has this email address" in page
    assert "Tick at least one role" in page
    assert 'aria-invalid="true"' in page
    assert get(app, User, target.id).name == "Pat"
    assert events(app, "admin.user.updated") == []


def test_the_last_active_admin_cannot_lose_the_admin_role(app, client, make_user):
    admin = make_user(Role.admin, email="only@example.com")
    login_as(client, admin)
    form = {"name": "Only", "email": "only@example.com", "roles": ["risk_officer"]}
    refused = client.post(f"/admin/users/{admin.id}/edit", data=form | {"role": "risk_officer"})
    assert refused.status_code == 400
    assert "only@example.com is the last active admin" in text(refused)
    assert get(app, User, admin.id).role is Role.admin
    # A disabled admin does not count; an active second one does.
    make_user(Role.admin, email="asleep@example.com", active=False)
    again = client.post(f"/admin/users/{admin.id}/edit", data=form | {"role": "risk_officer"})
    assert again.status_code == 400
    make_user(Role.admin, email="second@example.com")
    allowed = client.post(f"/admin/users/{admin.id}/edit", data=form | {"role": "risk_officer"})
    assert allowed.status_code == 302
    # No longer an admin: the admin pages are closed to them now.
    assert client.get("/admin/").status_code == 403


def test_a_new_address_is_pending_until_its_owner_follows_the_link(
    app, client, make_user, smtp_server
):
    admin = make_user(Role.admin)
    target = make_user(Role.procurement, email="pat@example.com")
    login_as(client, admin)
    saved = client.post(
        f"/admin/users/{target.id}/edit",
        data={
            "name": "Pat",
            "email": "Pat@New.example",
            "roles": ["procurement"],
            "role": "procurement",
        },
    )
    assert saved.status_code == 302
    page = text(client.get(saved.headers["Location"]))
    assert "pending: pat@new.example" in page
    assert "pending: pat@new.example" in text(client.get("/admin/users"))
    deliver(app)
    [message] = smtp_server.to("pat@new.example")
    assert "pat@example.com" in message.get_content()
    path, _token = CONFIRM_LINK.search(message.get_content()).groups()
    [event] = events(app, "admin.user.updated")
    assert event.details["changes"]["email"] == {
        "old": "pat@example.com",
        "pending": "pat@new.example",
    }

    # Until confirmed, the old address is the one that logs in.
    visitor = app.test_client()
    old = visitor.post("/auth/login", data={"email": "pat@example.com", "password": PASSWORD})
    assert old.headers["Location"] == "/auth/mfa"
    new = app.test_client().post(
        "/auth/login", data={"email": "pat@new.example", "password": PASSWORD}
    )
    assert new.status_code == 401

    # A mail scanner fetching the link changes nothing; the button does.
    owner = app.test_client()
    shown = owner.get(path)
    assert shown.status_code == 200 and "Confirm pat@new.example" in text(shown)
    assert get(app, User, target.id).email == "pat@example.com"
    confirmed = owner.post(path)
    assert confirmed.status_code == 302
    user = get(app, User, target.id)
    assert (user.email, user.pending_email) == ("pat@new.example", None)
    [changed] = events(app, "account.email.changed")
    assert changed.details == {"old": "pat@example.com", "new": "pat@new.example"}
    assert "pending" not in text(client.get(f"/admin/users/{target.id}"))
    now = app.test_client().post(
        "/auth/login", data={"email": "pat@new.example", "password": PASSWORD}
    )
    assert now.headers["Location"] == "/auth/mfa"
    # The link worked once.
    assert owner.post(path).status_code == 400
    assert "already used" in text(owner.get(path))


def test_a_forged_expired_or_replaced_link_is_refused(
    app, client, make_user, smtp_server, monkeypatch
):
    admin = make_user(Role.admin)
    target = make_user(Role.procurement, email="pat@example.com")
    login_as(client, admin)

    def change_to(address: str) -> str:
        client.post(
            f"/admin/users/{target.id}/edit",
            data={"name": "Pat", "email": address, "roles": ["procurement"], "role": "procurement"},
        )
        deliver(app)
        return CONFIRM_LINK.search(smtp_server.to(address)[-1].get_content()).group(1)

    first = change_to("first@example.com")
    second = change_to("second@example.com")
    visitor = app.test_client()
    # Replaced by a newer change.
    assert visitor.post(first).status_code == 400
    # Forged: another signature, or none.
    assert visitor.post(second[:-3] + "abc").status_code == 400
    assert "not valid or has expired" in text(visitor.get("/auth/email/not-a-token"))
    # Expired: the clock moved on past the link's 48 hours.
    later = time.time() + (accounts.EMAIL_CHANGE_HOURS + 1) * 3600
    with monkeypatch.context() as patched:
        patched.setattr("itsdangerous.timed.time.time", lambda: later)
        expired = visitor.post(second)
    assert expired.status_code == 400 and "expired" in text(expired)
    assert get(app, User, target.id).email == "pat@example.com"
    assert visitor.post(second).status_code == 302  # within its time it works


# ---- the password someone else chose ------------------------------------------------------------


def _enrol(client) -> None:
    page = client.get("/auth/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200


def test_a_password_an_admin_chose_is_replaced_before_anything_else(app, client, make_user):
    admin = make_user(Role.admin)
    login_as(client, admin)
    created = client.post(
        "/admin/users/new",
        data={
            "email": "new.person@example.com",
            "name": "New Person",
            "role": "procurement",
            "vendor_id": "",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert created.status_code == 302
    newcomer = app.test_client()
    newcomer.post("/auth/login", data={"email": "new.person@example.com", "password": PASSWORD})
    _enrol(newcomer)
    for path in ("/procurement/", "/inventory/vendors", "/account/", "/requests/", "/"):
        response = newcomer.get(path)
        assert response.headers.get("Location") == "/auth/password", path
    assert newcomer.post("/inventory/vendors/new", data={}).headers["Location"] == "/auth/password"
    page = newcomer.get("/auth/password")
    assert page.status_code == 200 and "Choose your own password" in text(page)
    assert menu(page) == [] or "Vendors" not in menu(page)
    # The same password again is refused at its field.
    same = newcomer.post(
        "/auth/password",
        data={"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert same.status_code == 400 and "different from the current one" in text(same)
    changed = newcomer.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.headers["Location"] == "/procurement/"
    assert newcomer.get("/procurement/").status_code == 200
    assert newcomer.get("/auth/password").headers["Location"] == "/procurement/"
    assert len(events(app, "account.password.changed")) == 2  # the refusal and the change

    # A password the admin sets later is to be replaced again.
    with app.app_context():
        user_id = db.session.scalar(
            sa.select(User.id).where(User.email == "new.person@example.com")
        )
    reset = client.post(
        f"/admin/users/{user_id}/password",
        data={"password": "yet another passphrase", "confirm_password": "yet another passphrase"},
    )
    assert reset.status_code == 302
    assert get(app, User, user_id).must_change_password


QUESTIONNAIRE = """
format: 1
id: short-security
title: Short security
version: 1
audience: vendor
sections:
  - id: one
    title: One
    questions:
      - id: mfa
        type: yes_no
        text: Do you use MFA?
"""


def test_a_vendor_contact_invited_by_link_chooses_their_own_password(
    app, make_vendor, make_user, smtp_server
):
    vendor_id = make_vendor("Keystone Identity")
    with app.app_context():
        questionnaire = loader.parse(QUESTIONNAIRE, "q.yaml").questionnaire
        version_id = questionnaires.store_version(
            db.session, questionnaire, source="q.yaml", actor=ACTOR
        ).version.id
        db.session.commit()
    staff = app.test_client()
    login_as(staff, make_user(Role.procurement))
    sent = staff.post(
        "/requests/new",
        data={
            "vendor_id": vendor_id,
            "version_id": version_id,
            "due_on": (utcnow().date() + timedelta(days=10)).isoformat(),
            "contact_emails": "jane@keystone.example",
        },
    )
    assert sent.status_code == 302
    deliver(app)
    path = re.search(r"http://vr\.test(/invite/\S+)", smtp_server.messages[-1].get_content())[1]
    jane = app.test_client()
    jane.post(
        path, data={"name": "Jane", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    _enrol(jane)
    assert jane.get("/portal/").status_code == 200


# ---- the command line -------------------------------------------------------------------------


def test_create_user_with_several_roles_from_the_command_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email=founder@example.com",
            "--name=Founder",
            "--role=admin",
            "--role=risk_officer",
            "--role=procurement",
            "--password-stdin",
        ],
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "admin, risk officer, procurement founder@example.com" in result.output
    assert "password change" in result.output
    own = runner.invoke(
        args=[
            "create-user",
            "--email=me@example.com",
            "--name=Me",
            "--role=admin",
            "--own-password",
            "--password-stdin",
        ],
        input=NEW_PASSWORD + "\n",
    )
    assert own.exit_code == 0, own.output
    with app.app_context():
        founder = accounts.get_by_email(db.session, "founder@example.com")
        assert founder.roles == {Role.admin, Role.risk_officer, Role.procurement}
        assert founder.role is Role.admin and founder.must_change_password
        assert not accounts.get_by_email(db.session, "me@example.com").must_change_password
    contact = runner.invoke(
        args=[
            "create-user",
            "--email=x@example.com",
            "--name=X",
            "--role=vendor_contact",
            "--role=admin",
            "--password-stdin",
        ],
        input=NEW_PASSWORD + "\n",
    )
    assert contact.exit_code == 1


def test_quickstart_first_admin_replaces_the_printed_password(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite")
    result = app.test_cli_runner().invoke(args=["quickstart", "--no-serve", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "replaces this password with their own" in result.output
    with app.app_context():
        assert accounts.get_by_email(db.session, "admin@example.com").must_change_password


# ---- the first-run checklist ------------------------------------------------------------------


def _steps(client) -> str:
    return words(client.get("/admin/"))


def test_the_checklist_follows_each_first_step_and_hides_when_all_are_done(
    app, client, make_user, make_vendor
):
    admin = make_user(Role.admin)
    login_as(client, admin)
    page = _steps(client)
    assert "First steps: 0 of 4 done" in page
    assert "A risk officer (none yet)" in page and "procurement (none yet)" in page
    assert "Done by a risk officer or procurement" in page  # the admin reaches no inventory

    # A small team: the admin takes on both roles in one click.
    taken = client.post("/admin/team-roles")
    assert taken.headers["Location"] == "/admin/"
    [event] = events(app, "admin.user.updated")
    assert event.details["changes"]["roles"] == {
        "old": ["admin"],
        "new": ["admin", "risk_officer", "procurement"],
    }
    page = _steps(client)
    assert "First steps: 1 of 4 done" in page
    assert "Give myself" not in page
    home = client.get("/admin/").get_data(as_text=True)
    for link in (
        "/inventory/vendors",
        "/inventory/import",
        "/inventory/systems",
        "/inventory/data-categories",
        "/inventory/data-categories/starter",
        "/requests/",
    ):
        assert f'href="{link}"' in home, link
    assert client.post("/admin/team-roles").status_code == 302
    assert len(events(app, "admin.user.updated")) == 1  # nothing more to give

    vendor_id = make_vendor("Keystone")
    assert "First steps: 2 of 4 done" in _steps(client)
    add(app, System(name="Payroll", name_key="payroll"))
    assert "First steps: 2 of 4 done" in _steps(client)  # systems and data, both
    add(app, DataCategory(name="Customers", name_key="customers"))
    assert "First steps: 3 of 4 done" in _steps(client)

    with app.app_context():
        questionnaire = loader.parse(QUESTIONNAIRE, "q.yaml").questionnaire
        version_id = questionnaires.store_version(
            db.session, questionnaire, source="q.yaml", actor=ACTOR
        ).version.id
        db.session.commit()
    sent = client.post(
        "/requests/new",
        data={
            "vendor_id": vendor_id,
            "version_id": version_id,
            "due_on": (utcnow().date() + timedelta(days=10)).isoformat(),
            "contact_emails": "jane@keystone.example",
        },
    )
    assert sent.status_code == 302
    assert "First steps" not in _steps(client)


def test_the_team_step_is_done_by_other_accounts_too(app, client, make_user):
    admin = make_user(Role.admin)
    login_as(client, admin)
    make_user(Role.risk_officer)
    assert "A risk officer (there is one)" in _steps(client)
    assert "First steps: 0 of 4 done" in _steps(client)
    make_user(Role.procurement)
    assert "First steps: 1 of 4 done" in _steps(client)
    with app.app_context():
        assert not db.session.scalar(sa.select(sa.func.count()).select_from(Vendor))

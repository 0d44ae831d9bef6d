"""User administration through the admin pages."""

from conftest import PASSWORD, login, login_as

from vendor_risk.db import db
from vendor_risk.models import AuditEvent, Role, User


def _new_user_form(**overrides):
    form = {
        "email": "new.person@example.com",
        "name": "New Person",
        "role": "procurement",
        "vendor_id": "",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    return form | overrides


def test_admin_creates_a_user_who_must_enrol_mfa(app, client, make_user):
    admin = make_user(Role.admin)
    login_as(client, admin)
    response = client.post("/admin/users/new", data=_new_user_form())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "new.person@example.com" in page
    assert "not enrolled" in page
    assert "new.person@example.com" in client.get("/admin/users").get_data(as_text=True)

    newcomer = app.test_client()
    first = newcomer.post(
        "/auth/login", data={"email": "new.person@example.com", "password": PASSWORD}
    )
    assert first.headers["Location"] == "/auth/enrol"


def test_create_user_errors_are_shown_at_each_field_and_nothing_is_saved(client, make_user):
    admin = make_user(Role.admin, email="admin@example.com")
    login_as(client, admin)
    response = client.post(
        "/admin/users/new",
        data=_new_user_form(
            email="ADMIN@example.com",
            name="  ",
            password="password1234",
            confirm_password="password1234",
            role="vendor_contact",
        ),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already exists" in page
    assert "commonly used" in page
    assert "choose one" in page  # a vendor contact needs a vendor
    assert 'aria-invalid="true"' in page
    with client.application.app_context():
        assert db.session.query(User).count() == 1


def test_mismatched_confirmation_and_bad_email(client, make_user):
    login_as(client, make_user(Role.admin))
    response = client.post(
        "/admin/users/new",
        data=_new_user_form(email="not-an-address", confirm_password="something else entirely"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The two passwords differ." in page
    assert "An email address must have an @-sign." in page


def test_vendor_contact_is_created_for_a_vendor(client, make_user, make_vendor):
    vendor_id = make_vendor("Okta-like IdP")
    login_as(client, make_user(Role.admin))
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="vendor_id-name"' in form and 'data-suggest="/admin/vendor-names"' in form
    response = client.post(
        "/admin/users/new",
        data=_new_user_form(role="vendor_contact", vendor_id=str(vendor_id)),
    )
    assert response.status_code == 302
    assert "Okta-like IdP" in client.get("/admin/users").get_data(as_text=True)


def test_admin_cannot_disable_themselves(client, make_user):
    admin = make_user(Role.admin)
    login_as(client, admin)
    page = client.post(f"/admin/users/{admin.id}/disable", follow_redirects=True)
    assert "cannot disable your own account" in page.get_data(as_text=True)
    assert client.get("/admin/").status_code == 200


def test_unknown_user_is_404(client, make_user):
    login_as(client, make_user(Role.admin))
    assert client.get("/admin/users/9999").status_code == 404
    assert client.post("/admin/users/9999/disable").status_code == 404


def test_user_administration_is_audited(client, make_user):
    admin, target = make_user(Role.admin), make_user(Role.procurement)
    login(client, admin)
    client.post("/admin/users/new", data=_new_user_form())
    client.post(f"/admin/users/{target.id}/disable")
    client.post(f"/admin/users/{target.id}/enable")
    client.post(f"/admin/users/{target.id}/reset-mfa")
    with client.application.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
        events = db.session.query(AuditEvent).filter(AuditEvent.action.like("admin.%")).all()
    assert actions[-4:] == [
        "admin.user.created",
        "admin.user.disabled",
        "admin.user.enabled",
        "admin.user.mfa_reset",
    ]
    assert all(e.actor == admin.email and e.actor_id == admin.id for e in events)
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "admin.user.mfa_reset" in page


def test_vendor_contact_sees_only_their_vendor(client, make_user, make_vendor):
    mine, other = make_vendor("Mine Ltd"), make_vendor("Other Corp")
    contact = make_user(Role.vendor_contact, vendor_id=mine)
    login_as(client, contact)
    page = client.get("/portal/").get_data(as_text=True)
    assert "Mine Ltd" in page and "Other Corp" not in page
    assert other != mine


def test_admin_sets_a_new_password_for_someone_who_lost_theirs(app, make_user):
    admin, user = make_user(Role.admin), make_user(Role.risk_officer)
    admin_client, user_client = app.test_client(), app.test_client()
    login(user_client, user)
    login_as(admin_client, admin)

    weak = admin_client.post(
        f"/admin/users/{user.id}/password",
        data={"password": "password1234", "confirm_password": "password1234"},
    )
    assert weak.status_code == 400
    assert "commonly used" in weak.get_data(as_text=True)

    new = "a fresh passphrase for pat"
    done = admin_client.post(
        f"/admin/users/{user.id}/password", data={"password": new, "confirm_password": new}
    )
    assert done.status_code == 302
    assert user_client.get("/risk/").headers["Location"].startswith("/auth/login")
    fresh = app.test_client()
    assert (
        fresh.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
        == 401
    )
    assert (
        fresh.post("/auth/login", data={"email": user.email, "password": new}).headers["Location"]
        == "/auth/mfa"
    )
    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="admin.user.password_set").one()
        assert event.actor == admin.email and new not in str(event.details)

from conftest import login

from vendor_risk.models import Role


def test_admin_logs_in_and_lands_on_admin_home(client, make_user):
    admin = make_user(Role.admin)
    response = login(client, admin)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Administration" in page.get_data(as_text=True)

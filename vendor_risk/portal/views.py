"""The vendor portal: a vendor contact sees their own vendor only."""

from flask import render_template
from flask_login import current_user

from ..access import area
from ..db import db
from ..models import Role
from ..services import vendors

bp = area("portal", __name__, roles={Role.vendor_contact}, url_prefix="/portal")


@bp.get("/")
def home():
    vendor = vendors.vendor_of_contact(db.session, current_user)
    return render_template("portal/home.html", vendor=vendor)

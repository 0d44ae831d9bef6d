"""Risk officers: scored dashboards, findings, incidents and reports."""

from flask import render_template

from ..access import area
from ..db import db
from ..models import Role
from ..services import vendors

bp = area("risk", __name__, roles={Role.risk_officer}, url_prefix="/risk")


@bp.get("/")
def home():
    rows, total = vendors.list_vendors(db.session)
    return render_template("risk/home.html", vendors=rows, total=total)

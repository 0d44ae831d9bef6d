"""Procurement: registering vendors and sending questionnaires."""

from flask import render_template

from ..access import area
from ..db import db
from ..models import Role
from ..services import vendors

bp = area("procurement", __name__, roles={Role.procurement}, url_prefix="/procurement")


@bp.get("/")
def home():
    rows, total = vendors.list_vendors(db.session)
    return render_template("procurement/home.html", vendors=rows, total=total)

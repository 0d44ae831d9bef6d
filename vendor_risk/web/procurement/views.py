"""Procurement: the requests they chase, and their response times (vendors and questionnaires
have their own areas)."""

from flask import render_template

from ...db import db, utcnow
from ...models import Role
from ...services.portfolio import dashboards
from ..access import area
from . import dashboard

bp = area("procurement", __name__, roles={Role.procurement}, url_prefix="/procurement")


@bp.get("/")
def home():
    now = utcnow()
    data = dashboards.procurement_dashboard(db.session, today=now.date(), now=now)
    return render_template(
        "procurement/home.html", data=data, status_chart=dashboard.by_status(data)
    )

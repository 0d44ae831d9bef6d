"""The intake: staff (procurement and risk officers) fill internal questionnaires, such as the
vendor intake, with the same form and the same saving as the vendor portal."""

from __future__ import annotations

from flask import render_template

from ...db import db, utcnow
from ...models import Role
from ...services.questionnaires import answers as answers_service
from ..access import area
from . import filling

bp = area("intake", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/intake")

PLACE = filling.Place(
    name="intake",
    find=lambda request_id: answers_service.internal_request(db.session, request_id),
    back_label="Intake questionnaires",
)
filling.register(bp, PLACE, "/<int:request_id>")


@bp.get("/")
def index():
    rows = answers_service.internal_requests(db.session, today=utcnow().date())
    return render_template("portal/intake.html", rows=rows)

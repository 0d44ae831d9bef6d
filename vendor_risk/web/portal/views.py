"""The vendor portal: a vendor contact sees their own vendor's requests only, fills them,
attaches evidence and invites colleagues. Every request is found through a query filtered by
the contact's vendor: another vendor's request, answer or file is a 404."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ...core import email_domains
from ...db import db, utcnow
from ...services import ValidationFailed
from ...services.inventory import contacts as vendors
from ...services.portfolio import dashboards
from ...services.questionnaires import answers as answers_service
from ...services.questionnaires import invites
from .. import ratelimits
from ..access import request_actor
from . import filling
from .blueprint import bp
from .forms import InviteForm

PLACE = filling.Place(
    name="portal",
    find=lambda request_id: answers_service.request_for_contact(
        db.session, current_user, request_id
    ),
    back_label="Our requests",
)
filling.register(bp, PLACE, "/requests/<int:request_id>")


def _home(form: InviteForm, status: int = 200):
    vendor = vendors.vendor_of_contact(db.session, current_user)
    home = dashboards.portal_home(db.session, current_user, today=utcnow().date())
    domains = email_domains.read(vendor.email_domains).domains if vendor else ()
    return render_template(
        "portal/home.html", vendor=vendor, home=home, form=form, invitable_domains=domains
    ), status


@bp.get("/")
def home():
    return _home(InviteForm())


@bp.post("/invite")
@ratelimits.emails
def invite():
    """Invite a colleague of the same vendor, at one of its email domains: they get an email
    with a single-use link."""
    form = InviteForm()
    if not form.validate():
        return _home(form, 400)
    try:
        sent = invites.invite_colleague(
            db.session,
            vendor_id=current_user.vendor_id,
            email=form.email.data,
            actor=request_actor(),
        )
    except ValidationFailed as exc:
        if isinstance(exc, invites.ColleagueRefused):
            db.session.commit()  # the refusal's audit event
        else:
            db.session.rollback()
        messages = [m for key, found in exc.errors.items() for m in found]
        form.email.errors = [*form.email.errors, *messages]
        return _home(form, 400)
    db.session.commit()
    flash(f"Invitation to {sent.email} queued: it goes out in a moment.", "success")
    return redirect(url_for("portal.home"))

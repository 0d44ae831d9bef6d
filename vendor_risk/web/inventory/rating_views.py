"""A vendor's rating: explained, overridden, decided on (the risk tab)."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_login import current_user

from ...db import db, utcnow
from ...models import Role, Vendor
from ...services import ValidationFailed
from ...services.assessments import decisions, ratings
from ..access import deny, request_actor
from ..forms import ConfirmForm
from .blueprint import bp
from .common import _confirmed, _show_errors
from .rating_forms import AssessmentDecisionForm, OverrideForm
from .vendor_views import _vendor, _vendor_tab


def _risk_officer_only() -> None:
    """Procurement reads ratings; overriding one or deciding on it is a risk officer's call."""
    if Role.risk_officer not in current_user.roles:
        deny()


def _risk_page(
    vendor: Vendor,
    status: int = 200,
    *,
    override_form: OverrideForm | None = None,
    decision_form: AssessmentDecisionForm | None = None,
):
    page = ratings.risk_page(db.session, vendor.id)
    rating = page.rating
    decision_form = decision_form or AssessmentDecisionForm(formdata=None)
    cadence = current_app.config["REASSESSMENT_MONTHS"]
    next_review = None
    if rating is not None:
        # The rating now on the page is the one a decision sent from it is taken on.
        decision_form.score_id.data = rating.score_id
        decision_form.tier.data = rating.effective_tier.value
        next_review = decisions.next_review(utcnow().date(), rating.effective_tier, cadence)
    return _vendor_tab(
        "inventory/vendor_risk.html",
        vendor,
        status,
        page=page,
        rating=rating,
        decisions=decisions.decisions_of(db.session, vendor.id),
        may_decide=Role.risk_officer in current_user.roles,
        override_form=override_form or OverrideForm(formdata=None),
        clear_form=ConfirmForm(),
        decision_form=decision_form,
        cadence=cadence,
        next_review=next_review,
        history_shown=ratings.HISTORY_SHOWN,
    )


def _change_rating(vendor: Vendor, form, *, problems, save, form_name: str, done):
    """Validate the form and the service's rules (each problem at its field), then save and
    commit. A refusal about the rating itself (none yet, changed meanwhile, no override to
    clear) answers 409 with the reason; a refused form 400 with what was typed. ``done``
    words the success from what ``save`` returned."""
    form_ok = form.validate()
    found = problems(form.values())
    for name, messages in found.items():
        if not form[name].errors:
            form[name].errors = [*form[name].errors, *messages]
    if not form_ok or found:
        return _risk_page(vendor, 400, **{form_name: form})
    try:
        saved = save(form)
    except ValidationFailed as exc:
        db.session.rollback()
        if "" in exc.errors:
            flash(" ".join(exc.errors[""]), "error")
            return _risk_page(vendor, 409)
        _show_errors(form, exc.errors)
        return _risk_page(vendor, 400, **{form_name: form})
    message = done(saved)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("inventory.vendor_risk", vendor_id=vendor.id))


@bp.get("/vendors/<int:vendor_id>/risk")
def vendor_risk(vendor_id: int):
    vendor = _vendor(vendor_id)
    # The rating follows the inventory once the background update has counted a change.
    return _risk_page(vendor)


@bp.post("/vendors/<int:vendor_id>/risk/override")
def override_rating(vendor_id: int):
    _risk_officer_only()
    vendor = _vendor(vendor_id)
    return _change_rating(
        vendor,
        OverrideForm(),
        problems=lambda values: ratings.override_problems(
            values["override_tier"], values["override_reason"]
        ),
        save=lambda form: ratings.set_override(
            db.session,
            vendor.id,
            tier=form.override_tier.data,
            reason=form.override_reason.data,
            actor=request_actor(),
        ),
        form_name="override_form",
        done=lambda rating: (
            f"Tier overridden to {rating.override_tier}: the computed rating "
            f"({rating.residual_tier}) stays beside it."
        ),
    )


@bp.post("/vendors/<int:vendor_id>/risk/override/clear")
def clear_rating_override(vendor_id: int):
    _risk_officer_only()
    vendor = _vendor(vendor_id)
    _confirmed()
    try:
        ratings.clear_override(db.session, vendor.id, actor=request_actor())
    except ValidationFailed as exc:
        db.session.rollback()
        flash(" ".join(exc.errors[""]), "error")
        return _risk_page(vendor, 409)
    db.session.commit()
    flash("Override cleared: the computed tier applies again.", "success")
    return redirect(url_for("inventory.vendor_risk", vendor_id=vendor.id))


@bp.post("/vendors/<int:vendor_id>/risk/decision")
def decide_assessment(vendor_id: int):
    _risk_officer_only()
    vendor = _vendor(vendor_id)
    cadence = current_app.config["REASSESSMENT_MONTHS"]
    return _change_rating(
        vendor,
        AssessmentDecisionForm(),
        problems=decisions.decision_problems,
        save=lambda form: decisions.decide(
            db.session,
            vendor,
            form.values(),
            expected_score_id=form.expected_score_id,
            expected_tier=form.expected_tier,
            cadence=cadence,
            actor=request_actor(),
        ),
        form_name="decision_form",
        done=lambda decision: (
            f"Decision recorded: {decision.decision.label}. Next review on "
            f"{decision.next_review.isoformat()} ({decision.tier} tier)."
        ),
    )

"""Review of submitted questionnaires (risk officers): the queue, one request with every answer,
a clarification and an internal note per answer, return for clarification or accept.

Thin views: parse the form, call ``services.review``, render; the view commits once. A refused
form answers 400 with the error at its field; a step the request's state refuses (accepted
already, changed meanwhile) answers 409 on the request page with the reason.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from ...core.questionnaire.markup import sanitise
from ...core.scoring import CRITICAL_CAP
from ...db import db, expect_writes, snapshot
from ...models import Role
from ...services import ValidationFailed, uploads
from ...services.questionnaires import evidence as evidence_service
from ...services.questionnaires import review
from ..access import area, request_actor
from ..inventory.views import _found, _linker
from .forms import AnswerReviewForm, DecisionForm, QueueForm

bp = area("review", __name__, roles={Role.risk_officer}, url_prefix="/review")


def _markup(text: str) -> Markup:
    """A questionnaire text as the safe HTML subset it was stored as (sanitised again: the
    cost is small and a stored definition is then never trusted blindly)."""
    return Markup(sanitise(text))  # noqa: S704 - nh3 leaves only the safe subset


# ---- the queue -----------------------------------------------------------------------------


@bp.get("/")
def index():
    form = QueueForm(request.args)
    if not form.validate():
        abort(400)
    with snapshot(db.session):
        queue = review.review_queue(db.session, page=form.page.data or 1)
        returned = review.returned_requests(db.session, page=form.returned_page.data or 1)
    url = _linker(
        "review.index",
        {k: request.args[k] for k in ("page", "returned_page") if request.args.get(k)},
    )

    def returned_url(page: int | None = None, **changes) -> str:
        return url(returned_page=page, **changes)

    return render_template(
        "review/index.html", queue=queue, returned=returned, url=url, returned_url=returned_url
    )


# ---- one request ---------------------------------------------------------------------------


def _request_page(
    request_id: int,
    status: int = 200,
    *,
    answer_form: AnswerReviewForm | None = None,
    question_id: str | None = None,
):
    """The request page; after a refused save, ``answer_form`` (of ``question_id``) keeps
    what the reviewer typed, with its errors."""
    with snapshot(db.session):
        detail = _found(review.review_detail(db.session, request_id))
    forms: dict[str, AnswerReviewForm] = {}
    if detail.reviewable:
        for item in detail.items:
            qid = item.question.id
            if not (item.asked and item.question.type.takes_answer):
                continue
            if answer_form is not None and qid == question_id:
                forms[qid] = answer_form
            else:
                forms[qid] = AnswerReviewForm(
                    formdata=None,
                    prefix=qid,
                    clarification=item.clarification,
                    internal_note=item.internal_note,
                    stamp=item.stamp,
                )
    return render_template(
        "review/request.html",
        detail=detail,
        forms=forms,
        # One form per button, each with its own prefix: ids stay unique on the page.
        decisions={
            name: DecisionForm(formdata=None, prefix=name, version=detail.request_version)
            for name in ("return", "accept")
        },
        markup=_markup,
        open_question=question_id,
        critical_cap=CRITICAL_CAP,
    ), status


@bp.get("/<int:request_id>")
def request_view(request_id: int):
    return _request_page(request_id)


def _errors_at_fields(form: AnswerReviewForm, errors: dict[str, list[str]]) -> None:
    """Each message at its field; those about the whole answer at its form, not at the top of
    a long page."""
    for name, messages in errors.items():
        if name and name in form:
            form[name].errors = [*form[name].errors, *messages]
        else:
            form.form_errors.extend(messages)


def _refused(request_id: int, message: str):
    db.session.rollback()
    flash(message, "error")
    return _request_page(request_id, 409)


@bp.post("/<int:request_id>/answers/<question_id>")
def save_note(request_id: int, question_id: str):
    questionnaire_request = _found(review.get_request(db.session, request_id, for_update=True))
    if not review.has_question(db.session, questionnaire_request, question_id):
        abort(404)
    form = AnswerReviewForm(prefix=question_id)
    if not form.validate() or form.expected_stamp is None:
        if not form.errors:
            abort(400)  # no stamp: not a form of this page
        db.session.rollback()
        return _request_page(request_id, 400, answer_form=form, question_id=question_id)
    try:
        review.write_note(
            db.session,
            questionnaire_request,
            question_id,
            clarification=form.clarification.data,
            internal_note=form.internal_note.data,
            expected_stamp=form.expected_stamp,
            actor=request_actor(),
        )
    except review.ReviewRefused as exc:
        return _refused(request_id, " ".join(exc.errors[""]))
    except review.NoteConflict as exc:
        db.session.rollback()
        _errors_at_fields(form, exc.errors)
        form.stamp.data = exc.current_stamp  # saving again is a deliberate overwrite
        return _request_page(request_id, 409, answer_form=form, question_id=question_id)
    except ValidationFailed as exc:
        db.session.rollback()
        _errors_at_fields(form, exc.errors)
        return _request_page(request_id, 400, answer_form=form, question_id=question_id)
    db.session.commit()
    flash("Saved.", "success")
    anchor = f"q-{question_id}"
    return redirect(url_for("review.request_view", request_id=request_id, _anchor=anchor))


def _decision(request_id: int, name: str):
    """The request, locked, and the version its page was opened on (400 without one)."""
    questionnaire_request = _found(review.get_request(db.session, request_id, for_update=True))
    form = DecisionForm(prefix=name)
    if not form.validate() or form.expected_version is None:
        abort(400)
    return questionnaire_request, form.expected_version


@bp.post("/<int:request_id>/return")
def return_request(request_id: int):
    questionnaire_request, version = _decision(request_id, "return")
    try:
        asked = review.return_for_clarification(
            db.session, questionnaire_request, expected_version=version, actor=request_actor()
        )
    except review.TransitionRefused as exc:
        return _refused(request_id, str(exc))
    except review.ReviewRefused as exc:
        return _refused(request_id, " ".join(exc.errors[""]))
    db.session.commit()
    flash(
        f"Request {request_id} returned for clarification with {asked} "
        f"question{'' if asked == 1 else 's'} for the vendor.",
        "success",
    )
    return redirect(url_for("review.index"))


@bp.post("/<int:request_id>/accept")
def accept_request(request_id: int):
    questionnaire_request, version = _decision(request_id, "accept")
    try:
        review.accept(
            db.session, questionnaire_request, expected_version=version, actor=request_actor()
        )
    except review.TransitionRefused as exc:
        return _refused(request_id, str(exc))
    except review.ReviewRefused as exc:
        return _refused(request_id, " ".join(exc.errors[""]))
    db.session.commit()
    flash(f"Request {request_id} accepted.", "success")
    return redirect(url_for("review.index"))


# ---- evidence ------------------------------------------------------------------------------


@bp.get("/evidence/<int:evidence_id>")
def evidence(evidence_id: int):
    found = _found(review.get_evidence(db.session, evidence_id))
    expect_writes(db.session)  # the download is audited
    evidence_service.record_download(db.session, found, actor=request_actor())
    db.session.commit()
    return uploads.send_evidence(found)

"""The questionnaire library: questionnaires and their immutable versions (procurement and risk
officers). A version is never edited or deleted: importing a file or saving an edit stores a new
one, unless its content is stored already."""

from __future__ import annotations

from io import BytesIO

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.utils import secure_filename

from ...core.questionnaire import loader
from ...core.questionnaire.words import condition_in_words
from ...db import db
from ...models import Role
from ...services.questionnaires import library as questionnaires
from ...services.questionnaires.library import QuestionnaireInvalid
from ..access import area, request_actor
from .forms import QuestionnaireFileForm, VersionEditForm

bp = area(
    "library",
    __name__,
    roles={Role.procurement, Role.risk_officer},
    url_prefix="/questionnaires",
)

# Files downloaded from the app are never rendered by the browser as a page.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


def _found(obj):
    if obj is None:
        abort(404)
    return obj


def _version(questionnaire_id: int, number: int):
    parent = _found(questionnaires.get_questionnaire(db.session, questionnaire_id))
    version = _found(questionnaires.version_by_number(db.session, questionnaire_id, number))
    return parent, version


@bp.get("/")
def index():
    return render_template("library/index.html", rows=questionnaires.library(db.session))


@bp.route("/import", methods=["GET", "POST"])
def import_file():
    form = QuestionnaireFileForm()
    problems = None
    if form.validate_on_submit():
        upload = form.file.data
        name = secure_filename(upload.filename or "") or "questionnaire"
        data = upload.read(loader.MAX_BYTES + 1)
        try:
            stored = questionnaires.import_file(db.session, data, name=name, actor=request_actor())
        except QuestionnaireInvalid as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            db.session.commit()
            version = stored.version
            if stored.created:
                flash(f"Stored as version {version.number} of “{version.title}”.", "success")
            else:
                flash(
                    f"Nothing changed: this content is version {version.number} of "
                    f"“{version.title}” already.",
                    "info",
                )
            return redirect(
                url_for(
                    "library.version",
                    questionnaire_id=version.questionnaire_id,
                    number=version.number,
                )
            )
    refused = request.method == "POST"  # a valid upload has been redirected
    return render_template("library/import.html", form=form, problems=problems), (
        400 if refused else 200
    )


@bp.get("/<int:questionnaire_id>")
def questionnaire(questionnaire_id: int):
    parent = _found(questionnaires.get_questionnaire(db.session, questionnaire_id))
    versions = questionnaires.versions_of(db.session, questionnaire_id)
    return render_template("library/questionnaire.html", questionnaire=parent, versions=versions)


@bp.get("/<int:questionnaire_id>/versions/<int:number>")
def version(questionnaire_id: int, number: int):
    parent, stored = _version(questionnaire_id, number)
    content = questionnaires.questionnaire_of(stored)
    show_if = {q.id: condition_in_words(q.show_if, content) for q in content.questions if q.show_if}
    when = {f.id: condition_in_words(f.when, content) for f in content.findings}
    latest = questionnaires.version_by_number(db.session, questionnaire_id, number + 1) is None
    return render_template(
        "library/version.html",
        questionnaire=parent,
        version=stored,
        content=content,
        show_if=show_if,
        when=when,
        latest=latest,
    )


@bp.get("/<int:questionnaire_id>/versions/<int:number>/yaml")
def download_yaml(questionnaire_id: int, number: int):
    parent, stored = _version(questionnaire_id, number)
    data = questionnaires.version_yaml(stored).encode("utf-8")
    response = send_file(
        BytesIO(data),
        mimetype="application/yaml",
        as_attachment=True,
        download_name=f"{parent.key}-version-{stored.number}.yaml",
    )
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


@bp.route("/<int:questionnaire_id>/versions/<int:number>/edit", methods=["GET", "POST"])
def edit(questionnaire_id: int, number: int):
    parent, stored = _version(questionnaire_id, number)
    form = VersionEditForm()
    problems = None
    status = 200
    if request.method == "GET":
        form.text.data = questionnaires.version_yaml(stored)
    elif form.validate_on_submit():
        try:
            saved = questionnaires.store_edit(
                db.session, parent, form.text.data, actor=request_actor()
            )
        except QuestionnaireInvalid as exc:
            db.session.rollback()
            problems, status = exc.problems, 400
        else:
            db.session.commit()
            new = saved.version
            if saved.created:
                flash(f"Saved as version {new.number} (edited from version {number}).", "success")
                return redirect(
                    url_for("library.version", questionnaire_id=parent.id, number=new.number)
                )
            flash(f"Nothing changed: this text is the content of version {new.number}.", "info")
    else:
        status = 400
    return render_template(
        "library/edit.html", questionnaire=parent, version=stored, form=form, problems=problems
    ), status

"""Forms of the vendor portal and the intake.

A questionnaire's form is read from its definition, never declared: :func:`section_answers`
takes what one section's Save button posted (the page works without JavaScript) and
:func:`autosave_payload` what the autosave script sends for one answer. Neither judges an
answer: whether it fits its question is ``questionnaire.conditions.validate_answer``'s
decision, made once in services.answers for every way in (page, script, workbook).
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from ...core.questionnaire import model as qmodel

# The names of one question's fields in a section's form: the answer, its comment, the
# version the page showed, a marker that the page showed the question (a question missing
# from a post, or disabled because it was not asked, is left alone), and its new files.
ANSWER, COMMENT, VERSION, SHOWN, FILES = "a-", "c-", "v-", "shown-", "f-"


class InviteForm(FlaskForm):
    """A colleague of the same vendor, invited to the portal by email."""

    email = EmailField(
        "Email address of your colleague",
        validators=[DataRequired("Enter an email address."), Length(max=320)],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something (submit, delete a file): the CSRF token only."""


def _version(raw: str | None) -> int | None:
    try:
        version = int(raw or "")
    except ValueError:
        return 0
    return version if version >= 0 else 0


def section_answers(
    section: qmodel.Section, form: MultiDict
) -> dict[str, tuple[Any, str | None, int | None]]:
    """``{question id: (answer, comment, version seen)}`` for the questions of ``section``
    that the page showed. A multiple choice is the list of boxes ticked; a radio group with
    nothing chosen, no answer. A missing or broken version reads 0 (the page had no answer):
    a save over someone's answer is then a conflict, never an overwrite."""
    found: dict[str, tuple[Any, str | None, int | None]] = {}
    for question in section.questions:
        qid = question.id
        if not question.type.takes_answer or form.get(SHOWN + qid) is None:
            continue
        if question.type is qmodel.QuestionType.multiple_choice:
            value: Any = form.getlist(ANSWER + qid)
        else:
            value = form.get(ANSWER + qid)
        comment = form.get(COMMENT + qid)
        found[qid] = (value, comment, _version(form.get(VERSION + qid)))
    return found


class PayloadError(ValueError):
    """The autosave script sent something that is not an answer save (not a person's error)."""


def autosave_payload(data: Any) -> tuple[Any, str | None, int]:
    """(answer, comment, version seen) from the script's JSON: ``{"value": ..., "comment":
    text or null, "base_version": integer}``. The version is required: the page always knows
    which one it showed (0 for none), and only a workbook import may overwrite blindly."""
    if not isinstance(data, dict):
        raise PayloadError("Send a JSON object.")
    base = data.get("base_version")
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise PayloadError("base_version must be the version of the answer shown (0: none).")
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise PayloadError("comment must be text or null.")
    value = data.get("value")
    if not (value is None or isinstance(value, str | int | float | list)):
        raise PayloadError("value must be text, a number, a list or null.")
    return value, comment, base

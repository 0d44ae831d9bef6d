"""Forms of the review pages: field names equal the Answer attributes they set.

Lengths are checked here for the message at the field; the service checks them again with the
secret-looking text, so that every way in is held to them.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from ...services.questionnaires.review import CLARIFICATION_MAX, NOTE_MAX
from ..forms import PAGE_MAX, strip_text

_STAMP = re.compile(r"[0-9a-f]{16}")


def _within(limit: int) -> str:
    return f"Keep it within {limit:,} characters."


def _version(value) -> int | None:
    """The hidden version as a number; anything else (missing, tampered) as None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


class DecisionForm(FlaskForm):
    """Return for clarification, or accept: a button with the version of the request the
    page showed, so that a decision on a request changed meanwhile is refused."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        return _version(self.version.data)


class AnswerReviewForm(FlaskForm):
    """The reviewer's two texts on one answer, with the stamp of the texts it was opened on
    (services.review.note_stamp). Built with the question id as prefix, so that the forms of
    every answer on one page have distinct field ids."""

    stamp = HiddenField()

    clarification = TextAreaField(
        "Clarification asked of the vendor",
        validators=[Length(max=CLARIFICATION_MAX, message=_within(CLARIFICATION_MAX))],
        filters=[strip_text],
        description=(
            "Shown to the vendor when the request is returned: what to change or explain. "
            "Leave empty when the answer needs no work."
        ),
        render_kw={"rows": 3},
    )
    internal_note = TextAreaField(
        "Internal note",
        validators=[Length(max=NOTE_MAX, message=_within(NOTE_MAX))],
        filters=[strip_text],
        description="For risk officers only: never shown to the vendor.",
        render_kw={"rows": 3},
    )

    @property
    def expected_stamp(self) -> str | None:
        value = str(self.stamp.data or "")
        return value if _STAMP.fullmatch(value) else None


class QueueForm(FlaskForm):
    """The two lists of the review queue, each with its own pages."""

    class Meta:
        csrf = False

    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=PAGE_MAX)])
    returned_page = IntegerField(
        "Page of returned requests", validators=[Optional(), NumberRange(min=1, max=PAGE_MAX)]
    )

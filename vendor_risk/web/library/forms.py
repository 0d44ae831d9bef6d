"""Forms of the questionnaire library: a file to import, a version's text to edit."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import TextAreaField
from wtforms.validators import DataRequired


class QuestionnaireFileForm(FlaskForm):
    """A questionnaire file: our YAML or JSON, or a Google VSAQ JSON file."""

    file = FileField(
        "Questionnaire file",
        description="YAML or JSON in vendor-risk's format, or a VSAQ questionnaire (JSON).",
        validators=[FileRequired("Choose a file.")],
    )


class VersionEditForm(FlaskForm):
    """A version's YAML, edited: saved as a new version."""

    text = TextAreaField(
        "The questionnaire, in YAML",
        description=(
            "Saving checks the text and stores it as a new version; the version you started "
            "from stays as it is. Keep the id: it names the questionnaire."
        ),
        validators=[DataRequired("The text is empty: nothing to save.")],
    )

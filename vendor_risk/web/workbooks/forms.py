"""The upload of a filled workbook."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class WorkbookForm(FlaskForm):
    file = FileField(
        "Filled workbook (.xlsx)",
        description="The workbook downloaded here, with your answers typed in.",
        validators=[FileRequired("Choose the workbook file.")],
    )

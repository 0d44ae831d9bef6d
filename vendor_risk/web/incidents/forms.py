"""Forms of the incident pages: field names equal the model attributes they set.

Formats are checked here (required, lengths, dates, choices); the rules of the domain (dates
not in the future, detection not before the start, one open incident per vendor, secret-looking
text, when an incident may close) are the service's, so every way in is held to them.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...models import ChecklistAction, IncidentStatus
from ..forms import CHOOSE, TEXT_MAX, ListForm, ModelForm, UTCDateField, enum_field, strip_text
from ..vendor_field import VendorField


def _day(text: str, message: str):
    return UTCDateField(text, validators=[InputRequired(message)], description="The day, in UTC.")


class IncidentFilterForm(ListForm):
    status = enum_field("Status", IncidentStatus, blank="Any status", validators=[Optional()])
    vendor_id = VendorField("Vendor", validators=[Optional()], placeholder="Any vendor")


class IncidentForm(ModelForm):
    vendor_id = VendorField("Breached vendor", validators=[DataRequired(CHOOSE)])
    title = StringField(
        "Title",
        validators=[
            DataRequired("Enter a title, such as “Support system breach”."),
            Length(max=200),
        ],
        filters=[strip_text],
    )
    started_at = _day("Breach started on", "Enter the day the breach began (a guess is fine).")
    detected_at = _day("Detected on", "Enter the day the breach was detected.")
    notes = TextAreaField(
        "Notes",
        validators=[Length(max=TEXT_MAX)],
        filters=[strip_text],
        description="What is known. Metadata only: never paste a credential or a token.",
    )


class ChecklistActionForm(FlaskForm):
    """The buttons of one checklist line: the credential was rotated, or revoked."""

    action = SelectField(
        "Action",
        choices=[
            SelectChoice(ChecklistAction.rotated.value, "Rotated"),
            SelectChoice(ChecklistAction.revoked.value, "Revoked"),
        ],
        coerce=lambda value: ChecklistAction(value) if value else None,
        validators=[DataRequired(CHOOSE)],
        invalid_value_message=CHOOSE,
        invalid_choice_message=CHOOSE,
    )


class CloseForm(FlaskForm):
    exception_reason = TextAreaField(
        "Reason for closing with a gap (risk officers only)",
        validators=[Optional(), Length(max=TEXT_MAX)],
        filters=[strip_text],
        description=(
            "Needed only while credentials the attacker obtained are still in the rotation gap: "
            "why the incident may close anyway. It is kept with the incident and in the audit "
            "trail."
        ),
    )

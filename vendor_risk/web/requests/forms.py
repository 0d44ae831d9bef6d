"""Forms of the request pages. Formats are checked here; what needs the database (the vendor
is not offboarded, the questionnaire exists, each contact line is an address, the due date)
is the service's (services.requests.request_problems)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...models import RequestStatus
from ...services.questionnaires.requests import MAX_CONTACTS, REQUEST_SORTS
from ..forms import CHOOSE, ListForm, direction_field, id_field
from ..vendor_field import VendorField

CONTACTS_MAX_CHARS = 20_000
DUE_WITHIN_MAX = 366
SORT_LABELS = {
    "due_on": "Due date",
    "vendor": "Vendor",
    "questionnaire": "Questionnaire",
    "status": "Status",
    "sent_at": "Sent",
    "progress": "Progress",
}


def status_choices(blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(s.value, s.label.capitalize()) for s in RequestStatus]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


def _status(value):
    return RequestStatus(value) if value else None


def _contacts(text: str, *, description: str):
    return TextAreaField(
        text,
        validators=[Length(max=CONTACTS_MAX_CHARS)],
        description=description,
        render_kw={"rows": 5, "autocomplete": "off", "spellcheck": "false"},
    )


class RequestForm(FlaskForm):
    vendor_id = VendorField("Vendor", validators=[DataRequired("Choose the vendor.")])
    version_id = id_field(
        "Questionnaire",
        validators=[DataRequired("Choose the questionnaire.")],
        description="Sent with its latest version; the request keeps that version for ever.",
    )
    due_on = DateField(
        "Due date",
        validators=[Optional()],
        description="Reminders go out before it; the request is overdue after it.",
    )
    contact_emails = _contacts(
        "Vendor contacts",
        description=(
            f"Email addresses, one per line (at most {MAX_CONTACTS}). Each gets an invitation "
            "link by email. Leave empty for a questionnaire our staff fill in (the intake)."
        ),
    )

    def contact_lines(self) -> list[str]:
        return (self.contact_emails.data or "").splitlines()


class InviteMoreForm(FlaskForm):
    contact_emails = _contacts("Invite more contacts", description="Email addresses, one per line.")

    def contact_lines(self) -> list[str]:
        return (self.contact_emails.data or "").splitlines()


class RequestFilterForm(ListForm):
    vendor_id = VendorField("Vendor", validators=[Optional()], placeholder="Any vendor")
    status = SelectField(
        "Status",
        choices=status_choices("Any status"),
        coerce=_status,
        validators=[Optional()],
        invalid_value_message=CHOOSE,
        invalid_choice_message=CHOOSE,
    )
    overdue = BooleanField("Overdue only")
    waiting = SelectField(
        "Waiting for",
        choices=[
            SelectChoice("", "Anyone"),
            SelectChoice("vendor", "The vendor"),
            SelectChoice("review", "A review"),
        ],
        # Not stripped: " " is no choice, not an empty one (Optional would clear the error).
        validators=[Optional(strip_whitespace=False)],
        invalid_choice_message=CHOOSE,
    )
    due_within = IntegerField(
        "Due within (days)",
        validators=[Optional(), NumberRange(min=0, max=DUE_WITHIN_MAX)],
        description="Still waiting for the vendor and due in this many days at most.",
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(key, SORT_LABELS[key]) for key in REQUEST_SORTS],
        validators=[Optional()],
        invalid_choice_message=CHOOSE,
    )
    direction = direction_field()

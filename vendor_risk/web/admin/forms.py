from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from ...models import AuditAction, AuditOutcome, OutboxStatus, Role
from ...services.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from ..forms import FilterForm, ListForm
from ..vendor_field import VendorField


class UserCreateForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField(
        "Role", choices=[SelectChoice(r.value, r.label) for r in Role], validators=[DataRequired()]
    )
    vendor_id = VendorField(
        "Vendor (vendor contacts only)", validators=[Optional()], suggest="admin.vendor_names"
    )
    password = PasswordField(
        "First password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=(
            f"At least {MIN_LENGTH} characters; give it to the person by a separate channel. "
            "They enrol their authenticator at first login."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordSetForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=(
            "For someone who lost theirs: give it to them by a separate channel. "
            "Their sessions end now; their authenticator stays."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class UserActionForm(FlaskForm):
    """Disable, enable, reset MFA: a button with a CSRF token."""


class AuditFilterForm(FilterForm):
    """Filters of the audit trail page."""

    action = SelectField(
        "Action",
        choices=[SelectChoice("", "Any action"), *(SelectChoice(a.value) for a in AuditAction)],
        validators=[Optional()],
    )
    actor = StringField("Actor (email contains)", validators=[Optional(), Length(max=320)])
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Any outcome"), *(SelectChoice(o.value) for o in AuditOutcome)],
        validators=[Optional()],
    )
    since = DateField("From (UTC)", validators=[Optional()])
    until = DateField("Until (UTC, inclusive)", validators=[Optional()])
    before = IntegerField("before", validators=[Optional(), NumberRange(min=1, max=2**63 - 1)])


class OutboxFilterForm(ListForm):
    """The outbox's pages, all messages or those in one state."""

    status = SelectField(
        "State",
        choices=[SelectChoice("", "Any"), *(SelectChoice(s.value, s.value) for s in OutboxStatus)],
        validators=[Optional()],
    )

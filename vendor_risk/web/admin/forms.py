from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from ...models import STAFF_ROLES, AuditAction, AuditOutcome, OutboxStatus, Role
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
            "At first login they replace it with their own and enrol their authenticator."
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
            "Their sessions end now; their authenticator stays; at their next login they "
            "replace this password with their own."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(FlaskForm):
    """Name, address and roles of a user. A vendor contact's roles are not offered: a contact
    holds no staff role."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        "Email address",
        validators=[DataRequired(), Length(max=320)],
        description=(
            "A new address is confirmed by its owner (a link is emailed to it); the current one "
            "stays in force until then."
        ),
    )
    roles = SelectMultipleField(
        "Roles", choices=[SelectChoice(r.value, r.label) for r in STAFF_ROLES]
    )
    role = SelectField(
        "Home page",
        choices=[SelectChoice(r.value, r.label) for r in STAFF_ROLES],
        description="The page they land on after logging in: one of the roles ticked.",
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


class JobListForm(ListForm):
    """The background jobs' page: the failures, page by page."""

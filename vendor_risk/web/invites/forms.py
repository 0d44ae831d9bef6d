"""The form of an invitation link: a button, and for a new account its name and password."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, Length

from ...services.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from ...services.questionnaires.invites import NAME_MAX
from ..forms import strip_text


class RedeemForm(FlaskForm):
    """Formats only: whether a name and a password are needed (a new account) and the
    password policy are the service's (services.invites.redemption_problems)."""

    name = StringField(
        "Your name",
        validators=[Length(max=NAME_MAX)],
        filters=[strip_text],
        render_kw={"autocomplete": "name"},
    )
    password = PasswordField(
        "Choose a password",
        validators=[Length(max=MAX_LENGTH)],
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a good one.",
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH},
    )
    confirm_password = PasswordField(
        "Repeat the password",
        validators=[EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )

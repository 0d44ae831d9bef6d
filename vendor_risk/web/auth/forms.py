from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ...services.accounts.passwords import MAX_LENGTH


class LoginForm(FlaskForm):
    email = StringField(
        "Email address",
        validators=[DataRequired(), Length(max=320)],
        render_kw={"autocomplete": "username", "type": "email", "autofocus": True},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class TotpForm(FlaskForm):
    code = StringField(
        "Six-digit code from your authenticator app",
        validators=[DataRequired(), Length(min=6, max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )


class RecoveryForm(FlaskForm):
    code = StringField(
        "Recovery code",
        validators=[DataRequired(), Length(min=16, max=40)],
        render_kw={"autocomplete": "off", "autofocus": True, "spellcheck": "false"},
    )


class LogoutForm(FlaskForm):
    """A button that logs out: a POST with a CSRF token, never a link."""


class ConfirmEmailForm(FlaskForm):
    """The button that confirms a new address: a CSRF token, nothing else."""


class SsoForm(FlaskForm):
    """The login page's "Sign in with ..." button: a POST with the CSRF token, so that no
    other site can start a sign-in in someone's browser."""

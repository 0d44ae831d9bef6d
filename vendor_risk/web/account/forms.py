from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ...services.accounts.passwords import MAX_LENGTH, MIN_LENGTH


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=f"At least {MIN_LENGTH} characters. A few unrelated words make a good one.",
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH},
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class RecoveryCodesForm(FlaskForm):
    code = StringField(
        "Current code from your authenticator app",
        validators=[DataRequired(), Length(min=6, max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ...models import Delivery, EventType

CHOOSE_DELIVERY = "Choose how to hear of it."


class NotificationActionForm(FlaskForm):
    """Open, mark read, mark all read: a button with a CSRF token."""


def preferences_form(events: tuple[EventType, ...], current: dict[EventType, Delivery], data=None):
    """A form with one choice per event type the user can be told of (field name: the event's
    value), preset to their current choices."""

    class NotificationPreferencesForm(FlaskForm):
        pass

    for event in events:
        setattr(
            NotificationPreferencesForm,
            event.value,
            RadioField(
                event.label,
                choices=[SelectChoice(d.value, d.label) for d in Delivery],
                default=current[event].value,
                validators=[InputRequired(message=CHOOSE_DELIVERY)],
                validate_choice=True,
            ),
        )
    return NotificationPreferencesForm(formdata=data)

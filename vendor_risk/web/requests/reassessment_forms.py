"""Forms of the reassessments page: the list's filter, and sending reassessments to one vendor
or to a checked selection in one step."""

from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectMultipleField, ValidationError
from wtforms.validators import DataRequired, NumberRange, Optional

from ...db import row_id, today_utc
from ...services.pages import PAGE_SIZE
from ...services.questionnaires.reassessments import DEFAULT_DUE_DAYS, DEFAULT_WITHIN_DAYS
from ..forms import ListForm

MAX_WITHIN_DAYS = 3650


def default_due_on():
    return today_utc() + timedelta(days=DEFAULT_DUE_DAYS)


class DueFilterForm(ListForm):
    within = IntegerField(
        "Next review within (days)",
        default=DEFAULT_WITHIN_DAYS,
        validators=[Optional(), NumberRange(min=0, max=MAX_WITHIN_DAYS)],
        description="Vendors whose next review is past, or this many days away at most.",
    )

    @property
    def within_days(self) -> int:
        return DEFAULT_WITHIN_DAYS if self.within.data is None else self.within.data


class ReassessmentForm(FlaskForm):
    """The vendors ticked (``vendor_ids``), or the one whose own button was pressed
    (``only``), and the due date of every request sent."""

    vendor_ids = SelectMultipleField("Vendors", coerce=int, validate_choice=False)
    only = IntegerField(validators=[Optional()])
    due_on = DateField(
        "Due date of the requests",
        validators=[DataRequired("Give the vendors a due date.")],
        default=default_due_on,
        description="Reminders go out before it; each request is overdue after it.",
    )
    within = HiddenField()  # the list's filter, to come back to it

    def selected(self) -> list[int]:
        return [self.only.data] if self.only.data is not None else list(self.vendor_ids.data or ())

    def validate_due_on(self, field) -> None:
        if field.data is not None and field.data < today_utc():
            raise ValidationError("The due date cannot be in the past.")

    def validate_vendor_ids(self, field) -> None:
        chosen = self.selected()
        if not chosen:
            raise ValidationError("Tick at least one vendor, or use a vendor's own button.")
        if len(chosen) > PAGE_SIZE:
            raise ValidationError(f"Send at most {PAGE_SIZE} vendors' reassessments at once.")
        if any(row_id(vendor_id) is None for vendor_id in chosen):
            # Not a vendor of the list (and beyond what the database's ids can hold).
            raise ValidationError("Choose vendors from the list.")

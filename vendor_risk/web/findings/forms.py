"""Forms of the findings pages (staff and portal): field names equal the model attributes they
set.

Formats are checked here (lengths, dates, choices); the rules of findings (a due date not in
the past, secret-looking text, an expiry within the allowed days, which status may follow
which) are services.findings', so that every way in is held to them.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...models import FindingSeverity, FindingStatus
from ...services.findings import FINDING_SORTS, OWNER_MAX, TEXT_MAX, TITLE_MAX, AgeBucket
from ..forms import (
    CHOOSE,
    ListForm,
    ModelForm,
    VersionedForm,
    direction_field,
    enum_field,
    strip_text,
    text_field,
)
from ..vendor_field import VendorField


def _within(limit: int) -> str:
    return f"Keep it within {limit:,} characters."


def _long_text(text: str, **kwargs) -> TextAreaField:
    return TextAreaField(
        text,
        validators=[Length(max=TEXT_MAX, message=_within(TEXT_MAX))],
        filters=[strip_text],
        **kwargs,
    )


def _version(value) -> int | None:
    """The hidden version as a number; anything else (missing, tampered) as None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


class _FindingFields(ModelForm):
    """What a risk officer writes of a finding, new or edited."""

    title = text_field(
        "Title",
        TITLE_MAX,
        description="The weakness in a few words, such as “No MFA for support staff”.",
    )
    severity = enum_field("Severity", FindingSeverity, default=FindingSeverity.medium)
    description = _long_text("Description", description="What is wrong, and why it matters.")
    remediation = _long_text("Remediation", description="What the vendor should do about it.")
    owner = text_field(
        "Owner", OWNER_MAX, description="Who remediates: a name or an address, theirs or ours."
    )
    due_on = DateField("Due on", validators=[Optional()])
    visible_to_vendor = BooleanField(
        "Shown to the vendor",
        default=True,
        description=(
            "The vendor's contacts see it in their portal, with its notes, and answer with "
            "notes and files. Untick to keep it internal."
        ),
    )


class NewFindingForm(_FindingFields):
    vendor_id = VendorField("Vendor", validators=[DataRequired(CHOOSE)])
    due_on = DateField(
        "Due on",
        validators=[Optional()],
        description="Leave empty: due after the days its severity allows (the settings).",
    )

    def values(self) -> dict:
        values = super().values()
        del values["vendor_id"]  # the finding's vendor is chosen once, never edited
        return values


class FindingForm(_FindingFields, VersionedForm):
    """An edit, with the version of the finding it was opened on."""


class _VersionedAction(FlaskForm):
    """A button acting on a finding, with the version the page showed: an action on a
    finding changed meanwhile is refused."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        return _version(self.version.data)


class StatusForm(_VersionedAction):
    status = SelectField(
        "Status",
        choices=[SelectChoice(s.value, s.label) for s in FindingStatus],
        coerce=lambda value: FindingStatus(value) if value else None,
        validators=[DataRequired(CHOOSE)],
        invalid_value_message=CHOOSE,
        invalid_choice_message=CHOOSE,
    )


class AcceptForm(_VersionedAction):
    justification = _long_text(
        "Justification",
        description=(
            "Why the risk is acceptable until the expiry: the compensating controls, the "
            "business reason. Kept with the finding and in the audit trail."
        ),
        render_kw={"rows": 4},
    )
    expires_on = DateField(
        "Expires on",
        validators=[Optional()],
        description="The finding reopens by itself the day after (UTC).",
    )


class EndAcceptanceForm(_VersionedAction):
    """Withdraw the acceptance in force."""


class NoteForm(FlaskForm):
    body = _long_text("Note", render_kw={"rows": 4})


class FileForm(FlaskForm):
    file = FileField("File")


class FindingFilterForm(ListForm):
    status = enum_field("Status", FindingStatus, blank="Any status", validators=[Optional()])
    severity = enum_field(
        "Severity", FindingSeverity, blank="Any severity", validators=[Optional()]
    )
    vendor_id = VendorField("Vendor", validators=[Optional()], placeholder="Any vendor")
    overdue = BooleanField("Only overdue")
    to_remediate = BooleanField("Only still to remediate")
    age = SelectField(
        "Age",
        choices=[SelectChoice("", "Any age"), *(SelectChoice(b.value, b.label) for b in AgeBucket)],
        coerce=lambda value: AgeBucket(value) if value else None,
        validators=[Optional()],
        invalid_value_message=CHOOSE,
        invalid_choice_message=CHOOSE,
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(key, key.replace("_", " ")) for key in FINDING_SORTS],
        validators=[Optional()],
        invalid_choice_message=CHOOSE,
    )
    direction = direction_field()

"""What the forms of every area share: the bounds of free text and page numbers, choice
fields that refuse an unknown value at the field, days kept as midnight UTC, the model form
(values by model attribute) and its versioned edit form, the confirm button, and the guard of
every list filter (a GET form, so no CSRF token) with its page and sort direction."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import Length, NumberRange, Optional

from ..core.labels import label
from ..db import row_id

TEXT_MAX = 10_000  # free-text fields: room for a page of notes, not for a dump
PAGE_MAX = 1_000_000
CHOOSE = "Choose one of the listed options."


def strip_text(value):
    # A field missing from the request (a crafted POST) is empty text, never None: the
    # columns are NOT NULL.
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _enum(enum: type[StrEnum]):
    """Coerce a submitted value to ``enum`` (the blank choice to None)."""

    def coerce(value):
        if value is None or value == "":
            return None
        return value if isinstance(value, enum) else enum(value)

    return coerce


def _optional_int(value):
    if value is None or value == "":
        return None
    found = row_id(value)
    if found is None:
        raise ValueError(CHOOSE)  # no row has it: refused at the field, never queried
    return found


def enum_choices(enum: type[StrEnum], blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(member.value, label(member.value)) for member in enum]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


def enum_field(text: str, enum: type[StrEnum], *, blank: str | None = None, **kwargs):
    """A select of the members of ``enum``; its data is the member (None for the blank)."""
    return SelectField(
        text,
        choices=enum_choices(enum, blank),
        coerce=_enum(enum),
        invalid_value_message=CHOOSE,
        invalid_choice_message=CHOOSE,
        **kwargs,
    )


def id_field(text: str, **kwargs):
    """A select of rows by id; the view sets its choices."""
    return SelectField(
        text,
        coerce=_optional_int,
        invalid_value_message=CHOOSE,
        invalid_choice_message=CHOOSE,
        **kwargs,
    )


class UTCDateField(DateField):
    """A day, kept as midnight UTC in a timestamp column (credential dates are known to the
    day); an existing timestamp shows as its UTC date."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, date) and not isinstance(self.data, datetime):
            self.data = datetime.combine(self.data, time(), UTC)


def text_field(text: str, max_length: int, **kwargs):
    return StringField(text, validators=[Length(max=max_length)], filters=[strip_text], **kwargs)


class ModelForm(FlaskForm):
    def values(self) -> dict:
        """The submitted values by model attribute (the CSRF token left out)."""
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token"}


class VersionedForm(ModelForm):
    """An edit form carries the version of the row it was opened on: saving over a newer
    version is a conflict (services.inventory.check_version), never a silent overwrite."""

    version = HiddenField()

    def values(self) -> dict:
        values = super().values()
        del values["version"]
        return values

    @property
    def expected_version(self) -> int | None:
        data = self.version.data
        return int(data) if isinstance(data, int | str) and str(data).isdigit() else None


class ConfirmForm(FlaskForm):
    """Delete, remove: a button with a CSRF token."""


class FilterForm(FlaskForm):
    """The filters of a list page (a GET form, so no CSRF token): every one shares this guard,
    so a value no choice offers is an error at its field, never a value queried by."""

    class Meta:
        csrf = False

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Optional() takes a blank value ("\r") for nothing and stops the field's validation,
        # leaving the blank as the field's data, which the list would then sort or filter by
        # (a KeyError: a 500). A choice field holding one is refused here, at the field.
        for field in self:
            data = field.data
            if (
                isinstance(field, SelectField)
                and isinstance(data, str)
                and data
                and not data.strip()
            ):
                field.errors = [*field.errors, CHOOSE]
                valid = False
        return valid


class ListForm(FilterForm):
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=PAGE_MAX)])


def direction_field():
    return SelectField(
        "Direction",
        choices=[SelectChoice("asc", "Ascending"), SelectChoice("desc", "Descending")],
        validators=[Optional()],
        invalid_choice_message=CHOOSE,
    )


class PageForm(ListForm):
    """A list with pages and nothing else to choose."""

"""Forms of the inventory pages: field names equal the model attributes they set.

Formats are checked here (required, lengths, web addresses, dates in order, choices); what needs
the database (unique names) and the secret-looking text check are the service's, so that every
way into the inventory is held to them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...core import email_domains
from ...core.labels import label
from ...core.scoring.inherent import Tier
from ...db import row_id
from ...models import (
    CredentialKind,
    CredentialStatus,
    Criticality,
    Environment,
    Privilege,
    Sensitivity,
    Substitutability,
    SystemKind,
    VendorStatus,
)
from ...services.inventory import CREDENTIAL_SORTS, VENDOR_SORTS, RotationStatus
from ...services.portfolio_history import UNRATED
from ..vendor_field import VendorField

TEXT_MAX = 10_000  # free-text fields: room for a page of notes, not for a dump
RECORDS_MAX = 2**63 - 1  # a BIGINT
PAGE_MAX = 1_000_000
CHOOSE = "Choose one of the listed options."


def _strip(value):
    # A field missing from the request (a crafted POST) is empty text, never None: the
    # columns are NOT NULL.
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


# Values whose words are not written as plain lower case.
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


def http_url(form, field) -> None:
    if not field.data:
        return
    try:
        parts = urlsplit(field.data)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or any(ch.isspace() for ch in field.data)
    ):
        raise ValidationError("Enter a web address that starts with https:// (or http://).")


class UTCDateField(DateField):
    """A day, kept as midnight UTC in a timestamp column (credential dates are known to the
    day); an existing timestamp shows as its UTC date."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, date) and not isinstance(self.data, datetime):
            self.data = datetime.combine(self.data, time(), UTC)


def _day(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _text(text: str, max_length: int, **kwargs):
    return StringField(text, validators=[Length(max=max_length)], filters=[_strip], **kwargs)


def _area(text: str, **kwargs):
    return TextAreaField(text, validators=[Length(max=TEXT_MAX)], filters=[_strip], **kwargs)


def _name(text: str, message: str):
    return StringField(text, validators=[DataRequired(message), Length(max=200)], filters=[_strip])


def _date(text: str, **kwargs):
    return DateField(text, validators=[Optional()], **kwargs)


def _records():
    return IntegerField(
        "Approximate records",
        validators=[Optional(), NumberRange(min=0, max=RECORDS_MAX)],
        description="Leave empty when nobody knows.",
    )


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


class EmailDomainsField(StringField):
    """Domains and single addresses typed in one box, separated by commas, spaces or lines
    (checked by the service: email_domains.problems)."""

    def process_formdata(self, valuelist):
        self.data = email_domains.split(valuelist[0]) if valuelist else []

    def _value(self):
        return ", ".join(self.data or [])


class VendorForm(VersionedForm):
    name = _name("Name", "Enter the vendor's name.")
    legal_name = _text("Legal name", 300)
    website = URLField(
        "Website",
        validators=[Length(max=500), http_url],
        filters=[_strip],
        description="For example https://vendor.example",
    )
    email_domains = EmailDomainsField(
        "Email domains",
        description="The domains whose addresses its contacts may invite from the portal "
        "(vendor.example), and single addresses you allow besides (name@mail.example), "
        "separated by commas. Addresses of our own staff can never be invited by a contact.",
    )
    services = _area("Services provided", description="What the vendor does for us.")
    status = enum_field("Status", VendorStatus, default=VendorStatus.prospect)
    criticality = enum_field(
        "Business criticality",
        Criticality,
        default=Criticality.medium,
        description="How much the business depends on the vendor's service.",
    )
    substitutability = enum_field(
        "Substitutability",
        Substitutability,
        default=Substitutability.moderate,
        description="How hard the vendor is to replace.",
    )
    business_owner = _text(
        "Business owner",
        200,
        description="Who in our organisation answers for the relationship.",
    )
    contract_start = _date("Contract start")
    contract_end = _date("Contract end")
    next_review = _date("Next review")
    notes = _area("Notes")

    def validate_contract_end(self, field):
        start = self.contract_start.data
        if field.data and start and field.data < start:
            raise ValidationError("The contract cannot end before it starts.")


class SystemForm(VersionedForm):
    name = _name("Name", "Enter the system's name.")
    kind = enum_field("Kind", SystemKind, default=SystemKind.other)
    environment = enum_field("Environment", Environment, default=Environment.production)
    owner = _text("Owner", 200, description="The team or person answering for the system.")
    mfa_required = BooleanField(
        "Interactive login requires MFA",
        description="A barrier for stolen passwords; tokens and service accounts pass it.",
    )
    description = _area("Description")


class DataCategoryForm(VersionedForm):
    name = _name("Name", "Enter the data category's name.")
    sensitivity = enum_field("Sensitivity", Sensitivity, default=Sensitivity.medium)
    description = _area("Description")


class HoldingForm(ModelForm):
    """A data category held by a vendor or a system (VendorData, SystemData)."""

    data_category_id = id_field("Data category", validators=[DataRequired(CHOOSE)])
    records = _records()


class HoldingRecordsForm(ModelForm):
    """Change the records of a holding: one small form per row, prefixed by its category."""

    records = _records()


class SubprocessorLinkForm(ModelForm):
    subprocessor_id = VendorField("Subprocessor", validators=[DataRequired(CHOOSE)])
    purpose = _text("Purpose", 500, description="What the subprocessor does for the vendor.")
    data_category_ids = SelectMultipleField(
        "Data categories passed on",
        coerce=int,
        invalid_value_message=CHOOSE,
        description="Our data that the vendor passes on to it. Hold Ctrl (⌘ on a Mac) to "
        "choose several.",
        render_kw={"size": 6},
    )


class CredentialForm(VersionedForm):
    """Metadata of an access grant. There is no field for a secret value, on purpose."""

    name = _name("Name", "Enter a name for the credential, such as svc-bitbucket.")
    kind = enum_field("Kind", CredentialKind, blank="Choose…", validators=[DataRequired(CHOOSE)])
    holder_vendor_id = VendorField(
        "Held by vendor",
        description="Leave empty for one of ours kept in a system.",
        placeholder="None: one of ours",
    )
    system_id = id_field("Opens system", validators=[DataRequired("Choose the system it opens.")])
    privilege = enum_field("Privilege", Privilege, default=Privilege.read)
    interactive = BooleanField(
        "Interactive", description="A person logs in with it (otherwise machine use)."
    )
    mfa_enforced = BooleanField("MFA enforced")
    phishing_resistant_mfa = BooleanField(
        "Phishing-resistant MFA", description="A passkey or security key, not codes."
    )
    ip_restricted = BooleanField("Restricted to known IP addresses")
    issued_at = UTCDateField("Issued", validators=[Optional()])
    last_rotated_at = UTCDateField("Last rotated", validators=[Optional()])
    expires_at = UTCDateField("Expires", validators=[Optional()])
    last_used_at = UTCDateField("Last used", validators=[Optional()])
    rotation_period_days = IntegerField(
        "Rotation period (days)",
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description="How often it must be rotated; empty when no period applies.",
    )
    owner = _text("Owner", 200, description="Who rotates or revokes it.")
    status = enum_field("Status", CredentialStatus, default=CredentialStatus.active)
    notes = _area("Notes", description="Metadata only: never paste the credential itself.")
    stored_in = SelectMultipleField(
        "Copies stored in",
        coerce=int,
        invalid_value_message=CHOOSE,
        description=(
            "Systems keeping a copy (a token pasted in a ticket, a key in a repository): "
            "whoever reaches them can take it. Hold Ctrl (⌘ on a Mac) to choose several."
        ),
        render_kw={"size": 6},
    )

    def values(self) -> dict:
        values = super().values()
        del values["stored_in"]  # copies are rows of their own, set apart
        return values

    def validate_last_rotated_at(self, field):
        issued = _day(self.issued_at.data)
        if field.data and issued and _day(field.data) < issued:
            raise ValidationError("It cannot have been rotated before it was issued.")

    def validate_expires_at(self, field):
        issued = _day(self.issued_at.data)
        if field.data and issued and _day(field.data) < issued:
            raise ValidationError("It cannot expire before it was issued.")

    def validate_phishing_resistant_mfa(self, field):
        if field.data and not self.mfa_enforced.data:
            raise ValidationError("Phishing-resistant MFA is MFA: tick “MFA enforced” too.")


class ConfirmForm(FlaskForm):
    """Delete, remove: a button with a CSRF token."""


# ---- list filters: GET forms, so no CSRF token ----------------------------------------------


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


class _ListForm(FilterForm):
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=PAGE_MAX)])


def _direction():
    return SelectField(
        "Direction",
        choices=[SelectChoice("asc", "Ascending"), SelectChoice("desc", "Descending")],
        validators=[Optional()],
        invalid_choice_message=CHOOSE,
    )


def _search(text: str):
    return StringField(text, validators=[Optional(), Length(max=200)], filters=[_strip])


class PageForm(_ListForm):
    """A list with pages and nothing else to choose."""


class SystemFilterForm(_ListForm):
    q = _search("Search name or owner")


class VendorFilterForm(_ListForm):
    q = _search("Search name, legal name, services")
    status = enum_field("Status", VendorStatus, blank="Any status", validators=[Optional()])
    criticality = enum_field(
        "Criticality", Criticality, blank="Any criticality", validators=[Optional()]
    )
    tier = enum_field("Inherent tier", Tier, blank="Any tier", validators=[Optional()])
    # The effective tier (an override counts), as the dashboards count vendors.
    residual = SelectField(
        "Residual tier",
        choices=[
            SelectChoice("", "Any rating"),
            *enum_choices(Tier),
            SelectChoice(UNRATED, "Not rated yet"),
        ],
        # Not stripped: " " is no choice, not an empty one (Optional would clear the error).
        validators=[Optional(strip_whitespace=False)],
        invalid_choice_message=CHOOSE,
    )
    # services.inventory.RATING_STATES: ratings that miss a fact, or have a provisional one.
    rating = SelectField(
        "Rating",
        choices=[
            SelectChoice("", "Any rating"),
            SelectChoice("incomplete", "Incomplete: facts missing"),
            SelectChoice("provisional", "Provisional answers awaiting review"),
        ],
        validators=[Optional(strip_whitespace=False)],
        invalid_choice_message=CHOOSE,
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(key, label(key)) for key in VENDOR_SORTS],
        validators=[Optional()],
        invalid_choice_message=CHOOSE,
    )
    direction = _direction()


class CredentialFilterForm(_ListForm):
    q = _search("Search name or owner")
    status = enum_field("Status", CredentialStatus, blank="Any status", validators=[Optional()])
    rotation = enum_field("Rotation", RotationStatus, blank="Any", validators=[Optional()])
    holder_vendor_id = VendorField("Vendor", validators=[Optional()], placeholder="Any vendor")
    system_id = id_field("Opens system", validators=[Optional()])
    stored_in = id_field("Copy stored in", validators=[Optional()])
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(key, label(key)) for key in CREDENTIAL_SORTS],
        validators=[Optional()],
        invalid_choice_message=CHOOSE,
    )
    direction = _direction()


class BreachStartForm(FlaskForm):
    """A drill or an incident: from this date, credentials rotated since no longer work."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    since = DateField("Breach started on (optional)", validators=[Optional()])

    def since_utc(self) -> datetime | None:
        return datetime.combine(self.since.data, time(), UTC) if self.since.data else None


class VendorCsvForm(FlaskForm):
    """A CSV list of vendors to create or update, all or nothing."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])
    dry_run = BooleanField("Only check the file: import nothing")

    def text(self) -> str | None:
        """The file as text, or None with the reason at the field (a CSV is UTF-8 text)."""
        raw = self.file.data.read()
        if b"\x00" in raw:
            self.file.errors.append("This is not a CSV file (it contains binary data).")
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.file.errors.append("The file is not UTF-8 text: save the list as CSV UTF-8.")
            return None

"""Forms of the inventory pages: field names equal the model attributes they set.

Formats are checked here (required, lengths, web addresses, dates in order, choices); what needs
the database (unique names) and the secret-looking text check are the service's, so that every
way into the inventory is held to them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...core import csv_text, email_domains
from ...core.labels import label
from ...core.scoring.inherent import Tier
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
from ...services import uploads
from ...services.inventory import CREDENTIAL_SORTS, VENDOR_SORTS, RotationStatus
from ...services.portfolio_history import UNRATED
from ..forms import (
    CHOOSE,
    TEXT_MAX,
    ListForm,
    ModelForm,
    UTCDateField,
    VersionedForm,
    direction_field,
    enum_choices,
    enum_field,
    id_field,
    strip_text,
    text_field,
)
from ..vendor_field import VendorField

RECORDS_MAX = 2**63 - 1  # a BIGINT


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


def _day(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _area(text: str, **kwargs):
    return TextAreaField(text, validators=[Length(max=TEXT_MAX)], filters=[strip_text], **kwargs)


def _name(text: str, message: str):
    return StringField(
        text, validators=[DataRequired(message), Length(max=200)], filters=[strip_text]
    )


def _date(text: str, **kwargs):
    return DateField(text, validators=[Optional()], **kwargs)


def _records():
    return IntegerField(
        "Approximate records",
        validators=[Optional(), NumberRange(min=0, max=RECORDS_MAX)],
        description="Leave empty when nobody knows.",
    )


class EmailDomainsField(StringField):
    """Domains and single addresses typed in one box, separated by commas, spaces or lines
    (checked by the service: email_domains.problems)."""

    def process_formdata(self, valuelist):
        self.data = email_domains.split(valuelist[0]) if valuelist else []

    def _value(self):
        return ", ".join(self.data or [])


class VendorForm(VersionedForm):
    name = _name("Name", "Enter the vendor's name.")
    legal_name = text_field("Legal name", 300)
    website = URLField(
        "Website",
        validators=[Length(max=500), http_url],
        filters=[strip_text],
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
    business_owner = text_field(
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


ZONE_FIELDS = ("zones", "accepts_unauthenticated_from")


def _zones_field(text: str, description: str):
    """A multi-select of network zones by id; the view sets its choices."""
    return SelectMultipleField(
        text,
        coerce=int,
        invalid_value_message=CHOOSE,
        invalid_choice_message="Choose one of the listed network zones.",
        description=f"{description} Hold Ctrl (⌘ on a Mac) to choose several.",
        render_kw={"size": 5},
    )


class SystemForm(VersionedForm):
    name = _name("Name", "Enter the system's name.")
    kind = enum_field("Kind", SystemKind, default=SystemKind.other)
    environment = enum_field("Environment", Environment, default=Environment.production)
    owner = text_field("Owner", 200, description="The team or person answering for the system.")
    mfa_required = BooleanField(
        "Interactive login requires MFA",
        description="A barrier for stolen passwords; tokens and service accounts pass it.",
    )
    description = _area("Description")
    operator_vendor_id = VendorField(
        "Operated by",
        description="The vendor running it for us (a SaaS application): its breach reaches "
        "the system's data and the credentials stored in it. Leave empty when we run it.",
        placeholder="None: we run it",
    )
    zones = _zones_field(
        "Network zones",
        "The zones it is in: a foothold on it connects to the systems of the zones they reach.",
    )
    accepts_unauthenticated_from = _zones_field(
        "Accepts unauthenticated network access from",
        "Zones whose systems can use it with no sign-in at all (an open share, an "
        "unauthenticated service).",
    )

    def values(self) -> dict:
        values = super().values()
        for name in ZONE_FIELDS:  # memberships are rows of their own, set apart
            del values[name]
        return values

    def zone_ids(self) -> dict[str, list[int]]:
        return {name: self[name].data or [] for name in ZONE_FIELDS}


class FederationForm(ModelForm):
    """The system trusts an identity provider (another system) for sign-in (Federation)."""

    identity_provider_id = id_field(
        "Identity provider", validators=[DataRequired("Choose the identity provider.")]
    )
    privilege = enum_field(
        "Privilege it grants here",
        Privilege,
        default=Privilege.read,
        description="What a session signed in via the identity provider may do in this system.",
    )
    mfa_enforced = BooleanField(
        "This system asks its own MFA on top",
        description="A barrier for an interactive login; a stolen session passes the "
        "identity provider's MFA, not this one.",
    )


class SoftwareSupplyForm(ModelForm):
    """The system runs software a vendor supplies (SoftwareSupply)."""

    vendor_id = VendorField("Vendor", validators=[DataRequired(CHOOSE)])
    software = text_field(
        "Software", 200, description="An agent, a self-hosted server, a CI step: its name."
    )
    privilege = enum_field(
        "Privilege it has",
        Privilege,
        default=Privilege.admin,
        description="A breach of the vendor's build or update channel reaches the system "
        "with this privilege; MFA is no barrier.",
    )
    automatic_updates = BooleanField(
        "Updates apply automatically",
        default=True,
        description="Untick when we approve each update before it runs: a barrier that "
        "holds until the controls fail.",
    )


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
    """A subprocessor of a vendor: one of our vendors, a recorded fourth party, or a new fourth
    party typed with its service (recorded in the same step); the data passed on to it."""

    subprocessor_id = VendorField(
        "One of our vendors", validators=[Optional()], placeholder="None: a fourth party"
    )
    fourth_party_id = id_field("Or a recorded fourth party", validators=[Optional()])
    fourth_party_name = StringField(
        "Or a new fourth party: its name",
        validators=[Optional(), Length(max=200)],
        filters=[strip_text],
        description="A subprocessor that is not one of our vendors, recorded under this vendor.",
    )
    fourth_party_service = text_field(
        "The new fourth party's service",
        TEXT_MAX,
        description="What it does, such as e-mail delivery or cloud hosting (a fourth party "
        "recorded already keeps its own: edit it on its page).",
    )
    purpose = text_field("Purpose", 500, description="What the subprocessor does for the vendor.")
    data_category_ids = SelectMultipleField(
        "Data categories passed on",
        coerce=int,
        invalid_value_message=CHOOSE,
        description="Our data that the vendor passes on to it. Hold Ctrl (⌘ on a Mac) to "
        "choose several.",
        render_kw={"size": 6},
    )
    records = IntegerField(
        "Approximate records passed on",
        validators=[Optional(), NumberRange(min=0, max=RECORDS_MAX)],
        description="Of the one category chosen (with several, each one's records are entered "
        "on the subprocessor's row once it is added). Leave empty when nobody knows.",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        ways = (self.subprocessor_id, self.fourth_party_id, self.fourth_party_name)
        chosen = [f for f in ways if f.data not in (None, "") or f.errors]
        if not chosen:
            self.subprocessor_id.errors = [
                *self.subprocessor_id.errors,
                "Choose one of our vendors or a recorded fourth party, or type a new "
                "fourth party's name.",
            ]
            return False
        for extra in chosen[1:]:
            extra.errors = [
                *extra.errors,
                "Choose only one subprocessor: one of our vendors, a recorded fourth party, "
                "or a new one.",
            ]
            valid = False
        if self.records.data is not None and not self.data_category_ids.data:
            self.records.errors = [
                *self.records.errors,
                "Choose the data categories passed on: these are their records.",
            ]
            valid = False
        if self.fourth_party_service.data and not self.fourth_party_name.data:
            self.fourth_party_service.errors = [
                *self.fourth_party_service.errors,
                "This is for a new fourth party: type its name too, or clear this box.",
            ]
            valid = False
        return valid


class NetworkZoneForm(VersionedForm):
    name = _name("Name", "Enter the zone's name.")
    description = _area(
        "Description", description="What is in it, such as the office network or production."
    )


class ZoneReachForm(ModelForm):
    """Add a zone this one reaches: its systems can connect to those of that zone."""

    to_zone_id = id_field("Reaches zone", validators=[DataRequired(CHOOSE)])


class FourthPartyForm(VersionedForm):
    name = _name("Name", "Enter the fourth party's name.")
    service = _area("Service", description="What it does for the vendors relying on it.")


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
    owner = text_field("Owner", 200, description="Who rotates or revokes it.")
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


def _search(text: str):
    return StringField(text, validators=[Optional(), Length(max=200)], filters=[strip_text])


class SystemFilterForm(ListForm):
    q = _search("Search name or owner")


class ZoneFilterForm(ListForm):
    q = _search("Search name or description")


class FourthPartyFilterForm(ListForm):
    q = _search("Search name or service")


class VendorFilterForm(ListForm):
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
    direction = direction_field()

    FILTERS = ("q", "status", "criticality", "tier", "residual", "rating")

    def filters(self) -> dict:
        """The validated filters as services.inventory's search_vendors and select_vendors
        take them: the list and its bulk export read them alike."""
        return {
            "search": self.q.data or None,
            "status": self.status.data,
            "criticality": self.criticality.data,
            "tier": self.tier.data,
            "residual": self.residual.data or None,
            "rating": self.rating.data or None,
        }

    def described(self) -> dict[str, str]:
        """The filters chosen, in words (label: value), for a page that says what was asked."""
        words = {}
        for name in self.FILTERS:
            field = self[name]
            if not field.data:
                continue
            shown = str(field.data)
            if isinstance(field, SelectField):
                chosen = [text for value, text, selected, *_ in field.iter_choices() if selected]
                shown = str(chosen[0]) if chosen else shown
            words[str(field.label.text)] = shown
        return words


class CredentialFilterForm(ListForm):
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
    direction = direction_field()


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
        """The file as text (UTF-8, UTF-16 or Windows-1252, as spreadsheets save it), or None
        with what was seen at the field."""
        try:
            return csv_text.decode(self.file.data.read())
        except csv_text.CsvUnreadable as exc:
            self.file.errors.append(str(exc))
            return None


class InventoryFileForm(FlaskForm):
    """An inventory file (docs/inventory-format.md) to check, or to import all or nothing."""

    file = FileField(
        "Inventory file (YAML or JSON)", validators=[FileRequired("Choose an inventory file.")]
    )
    check = SubmitField("Check only")
    submit = SubmitField("Import")

    def upload(self) -> tuple[str, bytes]:
        """The file's name (cleaned of any path) and its bytes."""
        storage = self.file.data
        return uploads.display_name(storage.filename) or "inventory file", storage.read()

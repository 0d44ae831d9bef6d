"""Loading the demo: its inventory, its users, and its questionnaires sent, answered, reviewed
and decided through the services as in real use."""

from __future__ import annotations

import io
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from ...core.questionnaire import conditions
from ...core.questionnaire.markup import plain
from ...core.questionnaire.model import Audience, Questionnaire, QuestionType
from ...models import (
    AuditAction,
    Credential,
    CredentialCopy,
    DataCategory,
    Federation,
    FourthParty,
    NetworkZone,
    QuestionnaireRequest,
    QuestionnaireVersion,
    Role,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    System,
    SystemData,
    SystemOpenZone,
    SystemZone,
    User,
    Vendor,
    VendorData,
    ZoneReach,
)
from .. import audit, findings
from ..accounts import users as accounts
from ..assessments import decisions, ratings
from ..audit import Actor
from ..portfolio import aggregates as portfolio
from ..questionnaires import answers, evidence, requests, review
from ..questionnaires import library as questionnaires
from .assessments import (
    ASSESSMENTS,
    DECISIONS,
    DUE_IN_DAYS,
    MANUAL_FINDING,
    OUTCOMES,
    RISK_ACCEPTANCE,
    Assessment,
)
from .inventory import (
    CATEGORIES,
    CREDENTIALS,
    FEDERATIONS,
    FOURTH_PARTIES,
    FOURTH_PARTY_LINKS,
    IDENTITY_PROVIDER,
    OPERATED_BY,
    REVOKED,
    SOFTWARE,
    SUBPROCESSORS,
    SYSTEMS,
    VENDORS,
    ZONE_MEMBERS,
    ZONES,
)
from .people import DEMO_USERS, PROCUREMENT, RISK_OFFICER, VENDOR_CONTACT, VENDOR_CONTACTS
from .replies import planned_answers


def inventory_is_empty(session: Session) -> bool:
    return not session.scalar(sa.select(sa.func.count()).select_from(Vendor))


def load_inventory(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Add the demo inventory (flushes, does not commit). Returns vendor ids by name."""
    now = now or datetime.now(UTC)
    categories = {
        name: DataCategory(name=name, sensitivity=sensitivity, description=description)
        for name, (sensitivity, description) in CATEGORIES.items()
    }
    session.add_all(categories.values())
    systems = {}
    for name, (kind, environment, owner, mfa, _held) in SYSTEMS.items():
        systems[name] = System(
            name=name, kind=kind, environment=environment, owner=owner, mfa_required=mfa
        )
    vendors = {}
    for name, (legal, services, status, criticality, subst, owner, _sent) in VENDORS.items():
        vendors[name] = Vendor(
            name=name,
            legal_name=legal,
            services=services,
            status=status,
            criticality=criticality,
            substitutability=subst,
            business_owner=owner,
            contract_start=date(now.year - 2, 1, 1),
            contract_end=date(now.year + 1, 12, 31),
            next_review=(now + timedelta(days=30 * (len(vendors) % 12 + 1))).date(),
        )
    # The vendors with contacts: those contacts may invite colleagues at their own domain.
    contacts = {IDENTITY_PROVIDER: VENDOR_CONTACT} | {v: e for v, (_, e) in VENDOR_CONTACTS.items()}
    for name, address in contacts.items():
        vendors[name].email_domains = [address.rpartition("@")[2]]
    session.add_all([*systems.values(), *vendors.values()])
    session.flush()
    for name, (*_, held) in SYSTEMS.items():
        session.add_all(
            SystemData(system_id=systems[name].id, data_category_id=categories[c].id, records=n)
            for c, n in held.items()
        )
    for name, (*_, sent) in VENDORS.items():
        session.add_all(
            VendorData(vendor_id=vendors[name].id, data_category_id=categories[c].id, records=n)
            for c, n in sent.items()
        )
    for name, spec in CREDENTIALS.items():
        (
            kind,
            holder,
            opens,
            privilege,
            interactive,
            mfa,
            phishing_resistant,
            ip_restricted,
            owner,
            rotated_days_ago,
            period,
            status,
            stored_in,
        ) = spec
        # In use two days ago, but a revoked credential: last used when it was revoked.
        revoked_days_ago, why = REVOKED.get(name, (None, ""))
        last_used = now - timedelta(days=2 if revoked_days_ago is None else revoked_days_ago)
        credential = Credential(
            name=name,
            kind=kind,
            holder_vendor_id=vendors[holder].id if holder else None,
            system_id=systems[opens].id,
            privilege=privilege,
            interactive=interactive,
            mfa_enforced=mfa,
            phishing_resistant_mfa=phishing_resistant,
            ip_restricted=ip_restricted,
            owner=owner,
            rotation_period_days=period,
            status=status,
            issued_at=now - timedelta(days=900),
            last_rotated_at=None if rotated_days_ago is None else now - timedelta(rotated_days_ago),
            last_used_at=last_used,
            notes=f"Revoked on {last_used:%Y-%m-%d}: {why}." if why else "",
        )
        session.add(credential)
        session.flush()
        session.add_all(
            CredentialCopy(credential_id=credential.id, system_id=systems[s].id) for s in stored_in
        )
    for vendor, subprocessor, purpose, passed in SUBPROCESSORS:
        link = SubprocessorLink(
            vendor_id=vendors[vendor].id, subprocessor_id=vendors[subprocessor].id, purpose=purpose
        )
        session.add(link)
        session.flush()
        session.add_all(
            SubprocessorData(link_id=link.id, data_category_id=categories[c].id) for c in passed
        )
    _load_edges(session, categories, systems, vendors)
    session.flush()
    return {name: vendor.id for name, vendor in vendors.items()}


def _load_edges(
    session: Session,
    categories: Mapping[str, DataCategory],
    systems: Mapping[str, System],
    vendors: Mapping[str, Vendor],
) -> None:
    """The edges that need no credential (issue 14): the system a vendor operates, sign-in
    through the identity provider, vendor software, network zones, and the fourth parties."""
    for system, vendor in OPERATED_BY.items():
        systems[system].operator_vendor_id = vendors[vendor].id
    session.add_all(
        Federation(
            identity_provider_id=systems[idp].id,
            system_id=systems[system].id,
            privilege=privilege,
            mfa_enforced=mfa,
        )
        for idp, system, privilege, mfa in FEDERATIONS
    )
    session.add_all(
        SoftwareSupply(
            system_id=systems[system].id,
            vendor_id=vendors[vendor].id,
            software=software,
            privilege=privilege,
            automatic_updates=automatic,
        )
        for system, vendor, software, privilege, automatic in SOFTWARE
    )
    zones = {
        name: NetworkZone(name=name, description=description)
        for name, (description, _) in ZONES.items()
    }
    session.add_all(zones.values())
    parties = {
        name: FourthParty(name=name, service=service) for name, service in FOURTH_PARTIES.items()
    }
    session.add_all(parties.values())
    session.flush()
    session.add_all(
        ZoneReach(from_zone_id=zones[name].id, to_zone_id=zones[to].id)
        for name, (_, reaches) in ZONES.items()
        for to in reaches
    )
    for system, (member_of, open_to) in ZONE_MEMBERS.items():
        session.add_all(
            SystemZone(system_id=systems[system].id, zone_id=zones[z].id) for z in member_of
        )
        session.add_all(
            SystemOpenZone(system_id=systems[system].id, zone_id=zones[z].id) for z in open_to
        )
    for vendor, party, purpose, passed in FOURTH_PARTY_LINKS:
        link = SubprocessorLink(
            vendor_id=vendors[vendor].id, fourth_party_id=parties[party].id, purpose=purpose
        )
        session.add(link)
        session.flush()
        session.add_all(
            SubprocessorData(link_id=link.id, data_category_id=categories[c].id, records=n)
            for c, n in passed.items()
        )


# ---- questionnaires sent, answered, reviewed and decided --------------------------------------
#
# Everything below goes through the services as in real use (procurement sends, the vendors'
# contacts answer and submit, a risk officer reviews and decides), so that the audit events,
# the totals, the scores and the automatic findings are the ones the app itself produces.


def _person(user: User) -> Actor:
    return Actor(label=user.email, user_id=user.id)


def _attach_files(
    session: Session,
    request: QuestionnaireRequest,
    questionnaire: Questionnaire,
    plan: Mapping[str, tuple[Any, str]],
    *,
    vendor: str,
    actor: Actor,
) -> None:
    """A short text file for every required file question asked (a SOC 2 report, a
    certificate), standing in for the document a vendor attaches: submitting needs it."""
    values = {question_id: value for question_id, (value, _) in plan.items()}
    for question in conditions.visible_questions(questionnaire, values):
        if question.type is not QuestionType.file or not question.required:
            continue
        text = f"{vendor}: {plain(question.text)}\n\nA stand-in document of the demo data.\n"
        upload = FileStorage(io.BytesIO(text.encode()), filename=f"{question.id}.txt")
        evidence.store_upload(session, request, question.id, upload, actor=actor)


def _answer(
    session: Session,
    request: QuestionnaireRequest,
    assessment: Assessment,
    *,
    actor: Actor,
    today: date,
) -> None:
    """Answer as a person does in the portal: one answer at a time (autosave) up to half of
    them for a request left in progress; otherwise section by section, then the files, then
    the submission, which scores the request and opens its automatic findings."""
    questionnaire = answers.questionnaire_of_request(session, request)
    plan = planned_answers(questionnaire, assessment.replies, today)
    if not assessment.submitted:
        for question_id, (value, comment) in list(plan.items())[: len(plan) // 2]:
            answers.save_answer(
                session,
                request,
                question_id,
                value=value,
                comment=comment,
                base_version=0,
                actor=actor,
            )
        return
    for section in questionnaire.sections:
        ids = {question.id for question in section.questions}
        submitted = {
            qid: (value, comment, 0) for qid, (value, comment) in plan.items() if qid in ids
        }
        answers.save_section(session, request, section.id, submitted, actor=actor)
    _attach_files(session, request, questionnaire, plan, vendor=assessment.vendor, actor=actor)
    answers.submit(session, request, actor=actor)


def _review(
    session: Session, request: QuestionnaireRequest, assessment: Assessment, *, actor: Actor
) -> None:
    """The reviewer's notes (the first moves the request under review), then the outcome."""
    for question_id, (clarification, note) in assessment.notes.items():
        review.write_note(
            session,
            request,
            question_id,
            clarification=clarification,
            internal_note=note,
            expected_stamp=None,
            actor=actor,
        )
    if assessment.outcome is not None:
        OUTCOMES[assessment.outcome](
            session, request, expected_version=request.version, actor=actor
        )


def _contacts(session: Session, vendor_ids: Mapping[str, int], *, actor: Actor) -> dict[str, User]:
    """Each assessed vendor's contact by vendor name: the identity provider's demo contact, and
    an account for each of :data:`VENDOR_CONTACTS`."""
    found = {IDENTITY_PROVIDER: accounts.get_by_email(session, VENDOR_CONTACT)}
    for vendor, (name, email) in VENDOR_CONTACTS.items():
        found[vendor] = accounts.get_by_email(session, email) or accounts.create_user(
            session,
            email=email,
            name=name,
            password=secrets.token_urlsafe(15),
            role=Role.vendor_contact,
            vendor_id=vendor_ids[vendor],
            actor=actor,
        )
    return found


def load_assessments(session: Session, vendor_ids: Mapping[str, int], *, actor: Actor) -> None:
    """Send, answer and review the demo's questionnaires (:data:`ASSESSMENTS`), take the
    review decisions, write the manual finding and the risk acceptance, and leave the
    portfolio aggregates and every rating computed. Computing the aggregates commits what came
    before it (portfolio.refresh reads in a snapshot of its own); the caller commits the rest.
    Needs the demo's users and the shipped questionnaires stored (the commands store them
    first)."""
    today = requests.today_utc()
    versions: dict[str, QuestionnaireVersion] = {
        version.definition["id"]: version for version in questionnaires.latest_versions(session)
    }
    contacts = _contacts(session, vendor_ids, actor=actor)
    procurement = _person(accounts.get_by_email(session, PROCUREMENT))
    officer = _person(accounts.get_by_email(session, RISK_OFFICER))

    sent = []
    for assessment in ASSESSMENTS:
        version = versions[assessment.questionnaire]
        internal = questionnaires.questionnaire_of(version).audience is Audience.internal
        contact = None if internal else contacts[assessment.vendor]
        request = requests.create_request(
            session,
            vendor_id=vendor_ids[assessment.vendor],
            version_id=version.id,
            due_on=today + timedelta(days=DUE_IN_DAYS),
            contact_emails=[] if contact is None else [contact.email],
            actor=procurement,
        )
        answerer = procurement if contact is None else _person(contact)
        _answer(session, request, assessment, actor=answerer, today=today)
        sent.append((request, assessment))
    for request, assessment in sent:
        _review(session, request, assessment, actor=officer)

    # Ratings exist once the aggregates are computed: decisions are taken on them.
    portfolio.refresh(session)
    cadence = current_app.config["REASSESSMENT_MONTHS"]
    for vendor_name, kind, rationale in DECISIONS:
        vendor = session.get(Vendor, vendor_ids[vendor_name])
        rating = ratings.locked_rating(session, vendor.id)
        decisions.decide(
            session,
            vendor,
            {"decision": kind, "rationale": rationale, "conditions": ""},
            expected_score_id=rating.score_id,
            expected_tier=ratings.effective_tier(rating),
            cadence=cadence,
            actor=officer,
        )

    vendor_name, values = MANUAL_FINDING
    findings.create_finding(session, vendor_ids[vendor_name], values, actor=officer)
    vendor_name, title, justification, days = RISK_ACCEPTANCE
    listed = findings.search_findings(session, vendor_id=vendor_ids[vendor_name]).rows
    accepted = next(row for row in listed if row.title == title)
    findings.accept_risk(
        session,
        findings.get_finding(session, accepted.id, for_update=True),
        justification=justification,
        expires_on=today + timedelta(days=days),
        expected_version=None,
        actor=officer,
    )
    # A decision sets the vendor's next review, an inventory change: compute them again.
    portfolio.refresh(session)


def load_demo(session: Session, *, actor: Actor) -> list[tuple[str, Role, str]]:
    """The demo inventory, one user per role but admin (whom quickstart creates) and the
    questionnaires sent, answered and reviewed (:func:`load_assessments`); returns (email,
    role, first password) for each user created, to be shown once."""
    vendor_ids = load_inventory(session)
    created = []
    for email, name, role, vendor in DEMO_USERS:
        if accounts.get_by_email(session, email):
            continue
        password = secrets.token_urlsafe(15)
        accounts.create_user(
            session,
            email=email,
            name=name,
            password=password,
            role=role,
            vendor_id=vendor_ids[vendor] if vendor else None,
            actor=actor,
        )
        created.append((email, role, password))
    audit.record(
        session,
        AuditAction.inventory_imported,
        actor=actor,
        details={"source": "demo", "vendors": len(VENDORS), "credentials": len(CREDENTIALS)},
    )
    load_assessments(session, vendor_ids, actor=actor)
    return created

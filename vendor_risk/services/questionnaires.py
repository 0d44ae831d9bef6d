"""Questionnaires in the database: each distinct content stored once as an immutable version.

A version is identified by the SHA-256 of its canonical JSON, so storing unchanged content again
is a no-op, and a changed file (or an edit in the app) makes the next version. Requests point at
a version for ever; :func:`questionnaire_of` turns one back into the pure model, cached, since a
version never changes.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import audit
from ..audit import Actor
from ..models import AuditAction, Questionnaire, QuestionnaireVersion
from ..questionnaire import loader
from ..questionnaire import model as qmodel

SHIPPED_DIR = Path(__file__).resolve().parent.parent.parent / "questionnaires"


@dataclass(frozen=True)
class Stored:
    version: QuestionnaireVersion
    created: bool  # False: that content was stored already (a no-op)


def store_version(
    session: Session,
    questionnaire: qmodel.Questionnaire,
    *,
    source: str,
    actor: Actor,
) -> Stored:
    """Store this content as the questionnaire's next version, unless stored already."""
    content_hash = questionnaire.content_hash()
    parent = session.scalars(
        sa.select(Questionnaire).where(Questionnaire.key == questionnaire.id).with_for_update()
    ).first()
    if parent is None:
        parent = Questionnaire(
            key=questionnaire.id,
            title=questionnaire.title,
            audience=str(questionnaire.audience),
        )
        session.add(parent)
        session.flush()
    existing = session.scalars(
        sa.select(QuestionnaireVersion).where(
            QuestionnaireVersion.questionnaire_id == parent.id,
            QuestionnaireVersion.content_hash == content_hash,
        )
    ).first()
    if existing is not None:
        return Stored(existing, created=False)
    last = session.scalar(
        sa.select(sa.func.max(QuestionnaireVersion.number)).where(
            QuestionnaireVersion.questionnaire_id == parent.id
        )
    )
    version = QuestionnaireVersion(
        questionnaire_id=parent.id,
        number=(last or 0) + 1,
        author_version=questionnaire.version,
        content_hash=content_hash,
        title=questionnaire.title,
        question_count=sum(1 for q in questionnaire.questions if str(q.type) != "info"),
        definition=questionnaire.to_document(),
        source=source[:300],
        created_by_id=actor.user_id,
    )
    parent.title, parent.audience = questionnaire.title, str(questionnaire.audience)
    session.add(version)
    session.flush()
    audit.record(
        session,
        AuditAction.questionnaire_version_created,
        actor=actor,
        object_type="questionnaire_version",
        object_id=version.id,
        details={
            "questionnaire": questionnaire.id,
            "number": version.number,
            "hash": content_hash,
            "source": version.source,
        },
    )
    return Stored(version, created=True)


@functools.lru_cache(maxsize=64)
def _parsed(version_id: int, content_hash: str, definition_json: str) -> qmodel.Questionnaire:
    result = loader.from_document(json.loads(definition_json), name=f"version {version_id}")
    if result.questionnaire is None:  # stored only after validation: the code changed since
        problems = "; ".join(map(str, result.problems))
        raise ValueError(f"questionnaire version {version_id} no longer loads: {problems}")
    return result.questionnaire


def questionnaire_of(version: QuestionnaireVersion) -> qmodel.Questionnaire:
    """The pure model of a stored version (parsed once per process: versions never change)."""
    definition = json.dumps(version.definition, sort_keys=True)
    return _parsed(version.id, version.content_hash, definition)


def get_version(session: Session, version_id: int) -> QuestionnaireVersion | None:
    return session.get(QuestionnaireVersion, version_id)


def latest_versions(session: Session, *, audience: str | None = None) -> list[QuestionnaireVersion]:
    """The newest version of every questionnaire, by title (what a new request is sent with)."""
    newest = (
        sa.select(
            QuestionnaireVersion.questionnaire_id,
            sa.func.max(QuestionnaireVersion.number).label("number"),
        )
        .group_by(QuestionnaireVersion.questionnaire_id)
        .subquery()
    )
    query = (
        sa.select(QuestionnaireVersion)
        .join(
            newest,
            sa.and_(
                newest.c.questionnaire_id == QuestionnaireVersion.questionnaire_id,
                newest.c.number == QuestionnaireVersion.number,
            ),
        )
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .order_by(sa.func.lower(QuestionnaireVersion.title))
    )
    if audience is not None:
        query = query.where(Questionnaire.audience == audience)
    return list(session.scalars(query))


def sync_shipped(session: Session, *, actor: Actor, folder: Path = SHIPPED_DIR) -> list[Stored]:
    """Store the questionnaires shipped in questionnaires/ (new content only). A shipped file
    that does not load is a bug of this project: it raises, naming every problem."""
    stored = []
    for path in sorted(folder.glob("*.yaml")):
        result = loader.load(path)
        if result.questionnaire is None:
            raise ValueError("\n".join(map(str, result.problems)))
        stored.append(store_version(session, result.questionnaire, source=path.name, actor=actor))
    return stored

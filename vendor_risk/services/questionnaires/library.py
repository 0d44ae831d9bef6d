"""Questionnaires in the database: each distinct content stored once as an immutable version.

A version is identified by the SHA-256 of its canonical JSON, so storing unchanged content again
is a no-op, and a changed file (or an edit in the app) makes the next version. Requests point at
a version for ever; :func:`questionnaire_of` turns one back into the pure model, cached, since a
version never changes.

Files come in through :func:`import_file` (our YAML or JSON, or a VSAQ file, told apart by the
content: the command line and the library's upload share it), edits in the app through
:func:`store_edit`; both refuse with :class:`QuestionnaireInvalid`, every problem with its line,
and store nothing. The library's pages read :func:`library` and :func:`versions_of`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ...core import documents
from ...core.documents import Problem
from ...core.questionnaire import loader, vsaq
from ...core.questionnaire import model as qmodel
from ...models import AuditAction, Questionnaire, QuestionnaireRequest, QuestionnaireVersion, User
from .. import audit
from ..audit import Actor

SHIPPED_DIR = Path(__file__).resolve().parents[3] / "questionnaires"


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


# ---- importing a file (the command line and the library's upload) ---------------------------


@dataclass(frozen=True)
class FileProblem:
    """A problem of a questionnaire file or text: where (line, field) and what is wrong."""

    file: str
    line: int | None
    where: str  # the field, as a path in the document; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        """``FILE:LINE: path: message``, as the validate command prints problems."""
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{place}: {self.where}: {self.message}" if self.where else f"{place}: {self.message}"
        )


class QuestionnaireInvalid(ValueError):
    """A file or an edit that cannot be stored: every problem, nothing stored."""

    def __init__(self, problems: list[FileProblem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = tuple(problems)


def _from_loader(problem: Problem, name: str) -> FileProblem:
    where = problem.where if problem.path else ""
    return FileProblem(problem.file or name, problem.line, where, problem.message)


# A VSAQ problem: "NAME:LINE[:COLUMN]: message", or "NAME: message".
_VSAQ_LINE = re.compile(r":(\d+)(?::\d+)?: ")


def _from_vsaq(problem: str, name: str) -> FileProblem:
    rest = problem.removeprefix(name)
    match = _VSAQ_LINE.match(rest)
    if match:
        return FileProblem(name, int(match[1]), "", rest[match.end() :])
    return FileProblem(name, None, "", rest.removeprefix(": "))


def read_file(data: bytes, *, name: str) -> tuple[qmodel.Questionnaire, str]:
    """The questionnaire a file holds, in our format (YAML or JSON) or Google's VSAQ (told
    apart by the content), and the source a stored version records (the file's name without
    its folders, or ``vsaq:NAME``). QuestionnaireInvalid lists every problem, each naming
    ``name``. Reads no database."""
    if len(data) > loader.MAX_BYTES:
        limit = loader.MAX_BYTES // (1024 * 1024)
        raise QuestionnaireInvalid([FileProblem(name, None, "", f"larger than {limit} MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise QuestionnaireInvalid([FileProblem(name, line, "", "not UTF-8 text")]) from None
    if "\x00" in text:
        raise QuestionnaireInvalid([FileProblem(name, None, "", "not a text file")])
    if vsaq.looks_like_vsaq(text):
        try:
            document = vsaq.convert(text, name=name)
        except vsaq.VsaqError as exc:
            raise QuestionnaireInvalid([_from_vsaq(p, name) for p in exc.problems]) from None
        result = loader.from_document(document, name=name)
        source = f"vsaq:{PurePath(name).name}"
    else:
        result = loader.parse(text, name=name)
        source = PurePath(name).name
    if result.questionnaire is None:
        raise QuestionnaireInvalid([_from_loader(p, name) for p in result.problems])
    return result.questionnaire, source


def import_file(session: Session, data: bytes, *, name: str, actor: Actor) -> Stored:
    """Store the questionnaire of a file (see :func:`read_file`) as a new version of its
    questionnaire, or find the version that has its content already (a no-op)."""
    questionnaire, source = read_file(data, name=name)
    return store_version(session, questionnaire, source=source, actor=actor)


# ---- editing in the app: the version as YAML, saved as a new version --------------------------

EDITED_SOURCE = "edited in the app"
EDIT_NAME = "the text"  # how problems of an edit name what they are in


def _without_defaults_option(option: qmodel.Option, default: qmodel.Option | None) -> dict:
    written: dict[str, Any] = {"value": option.value}
    default_label = default.label if default is not None else option.value
    if option.label != default_label:
        written["label"] = option.label
    default_score = default.score if default is not None else None
    if option.score is not None and option.score != default_score:
        written["score"] = qmodel.number(option.score)
    return written


def _without_defaults_question(question: qmodel.Question) -> dict:
    kind = question.type
    written: dict[str, Any] = {"id": question.id, "type": kind.value, "text": question.text}
    if question.help:
        written["help"] = question.help
    if question.show_if is not None:
        written["show_if"] = question.show_if.to_document()
    defaults = qmodel.DEFAULT_OPTIONS.get(kind)
    if kind.has_options and question.options != defaults:
        by_value = {option.value: option for option in defaults or ()}
        written["options"] = [
            _without_defaults_option(option, by_value.get(option.value))
            for option in question.options
        ]
    if question.min is not None:
        written["min"] = qmodel.number(question.min)
    if question.max is not None:
        written["max"] = qmodel.number(question.max)
    if kind.scored and question.weight != 1:
        written["weight"] = qmodel.number(question.weight)
    if question.critical:
        written["critical"] = True
    if kind.takes_answer and not question.required:
        written["required"] = False
    if question.evidence is not qmodel.Evidence.none:
        written["evidence"] = question.evidence.value
    controls = question.controls.to_document()
    if any(controls.values()):
        written["controls"] = {key: ids for key, ids in controls.items() if ids}
    if question.inherent is not None:
        written["inherent"] = question.inherent.value
    return written


def _without_defaults_finding(finding: qmodel.FindingRule) -> dict:
    written = finding.to_document()
    if not finding.why:
        del written["why"]
    return written


def readable_document(questionnaire: qmodel.Questionnaire) -> dict[str, Any]:
    """The questionnaire as a person would write its file: what a field says by default is
    left out (it loads back to the same content, so to the same hash)."""
    sections = []
    for section in questionnaire.sections:
        written: dict[str, Any] = {"id": section.id, "title": section.title}
        if section.description:
            written["description"] = section.description
        if section.weight != 1:
            written["weight"] = qmodel.number(section.weight)
        written["questions"] = [_without_defaults_question(q) for q in section.questions]
        if section.findings:
            written["findings"] = [_without_defaults_finding(f) for f in section.findings]
        sections.append(written)
    document: dict[str, Any] = {
        "format": questionnaire.format,
        "id": questionnaire.id,
        "title": questionnaire.title,
        "version": questionnaire.version,
        "audience": questionnaire.audience.value,
    }
    if questionnaire.description:
        document["description"] = questionnaire.description
    document["sections"] = sections
    return document


def version_yaml(version: QuestionnaireVersion) -> str:
    """A stored version as a readable YAML file (block style, defaults left out)."""
    return documents.dump(readable_document(questionnaire_of(version)))


def _line_of(text: str, path: tuple[str | int, ...]) -> int | None:
    return documents.parse_document(text, name=EDIT_NAME, fmt="yaml").line_of(path)


def store_edit(
    session: Session, questionnaire: Questionnaire, text: str, *, actor: Actor
) -> Stored:
    """Store the text of an edit in the app as the questionnaire's next version (or find the
    version that has that content already: nothing changed). QuestionnaireInvalid lists every
    problem with its line, and refuses a text whose ``id`` is not the questionnaire's key: a
    new questionnaire comes from an imported file."""
    data = text.encode("utf-8")
    if len(data) > loader.MAX_BYTES:
        limit = loader.MAX_BYTES // (1024 * 1024)
        raise QuestionnaireInvalid([FileProblem(EDIT_NAME, None, "", f"larger than {limit} MB")])
    result = loader.parse(text, name=EDIT_NAME, fmt="yaml")
    if result.questionnaire is None:
        raise QuestionnaireInvalid([_from_loader(p, EDIT_NAME) for p in result.problems])
    edited = result.questionnaire
    if edited.id != questionnaire.key:
        message = (
            f"the id must stay {questionnaire.key!r} (it is {edited.id!r}): an edit makes a new "
            "version of this questionnaire; a new questionnaire is imported from a file"
        )
        raise QuestionnaireInvalid([FileProblem(EDIT_NAME, _line_of(text, ("id",)), "id", message)])
    return store_version(session, edited, source=EDITED_SOURCE, actor=actor)


# ---- the library's pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryRow:
    """A questionnaire in the library's list, with its latest version."""

    id: int
    key: str
    title: str
    audience: str
    latest_number: int
    version_count: int
    question_count: int
    latest_at: datetime


def library(session: Session) -> list[LibraryRow]:
    """Every questionnaire with its latest version, by title, in one query."""
    counts = (
        sa.select(
            QuestionnaireVersion.questionnaire_id,
            sa.func.max(QuestionnaireVersion.number).label("latest"),
            sa.func.count().label("versions"),
        )
        .group_by(QuestionnaireVersion.questionnaire_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            Questionnaire.id,
            Questionnaire.key,
            Questionnaire.title,
            Questionnaire.audience,
            counts.c.latest,
            counts.c.versions,
            QuestionnaireVersion.question_count,
            QuestionnaireVersion.created_at,
        )
        .join(counts, counts.c.questionnaire_id == Questionnaire.id)
        .join(
            QuestionnaireVersion,
            sa.and_(
                QuestionnaireVersion.questionnaire_id == Questionnaire.id,
                QuestionnaireVersion.number == counts.c.latest,
            ),
        )
        .order_by(sa.func.lower(Questionnaire.title), Questionnaire.id)
    ).all()
    return [LibraryRow(*row) for row in rows]


def get_questionnaire(session: Session, questionnaire_id: int) -> Questionnaire | None:
    return session.get(Questionnaire, questionnaire_id)


def version_by_number(
    session: Session, questionnaire_id: int, number: int
) -> QuestionnaireVersion | None:
    return session.scalar(
        sa.select(QuestionnaireVersion).where(
            QuestionnaireVersion.questionnaire_id == questionnaire_id,
            QuestionnaireVersion.number == number,
        )
    )


@dataclass(frozen=True)
class VersionRow:
    """A version in its questionnaire's list: who made it, from what, and how many requests
    were sent with it."""

    id: int
    number: int
    author_version: int
    content_hash: str
    title: str
    question_count: int
    source: str
    created_at: datetime
    created_by: str | None  # None: the command line or the shipped files
    request_count: int


def versions_of(session: Session, questionnaire_id: int) -> list[VersionRow]:
    """The versions of a questionnaire, newest first, each with its requests counted: one
    query."""
    used = (
        sa.select(QuestionnaireRequest.version_id, sa.func.count().label("requests"))
        .group_by(QuestionnaireRequest.version_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            QuestionnaireVersion.id,
            QuestionnaireVersion.number,
            QuestionnaireVersion.author_version,
            QuestionnaireVersion.content_hash,
            QuestionnaireVersion.title,
            QuestionnaireVersion.question_count,
            QuestionnaireVersion.source,
            QuestionnaireVersion.created_at,
            User.name,
            sa.func.coalesce(used.c.requests, 0),
        )
        .outerjoin(User, User.id == QuestionnaireVersion.created_by_id)
        .outerjoin(used, used.c.version_id == QuestionnaireVersion.id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireVersion.number.desc())
    ).all()
    return [VersionRow(*row) for row in rows]

"""``flask --app app questionnaires validate FILE...``: check questionnaire files before they
are shipped or imported, as an author (or CI) would, without the database; and
``questionnaires import FILE``: store one (ours or a VSAQ file) as a new version."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..core.questionnaire import loader

questionnaires_cli = AppGroup("questionnaires", help="Questionnaire files.")


@questionnaires_cli.command("validate", with_appcontext=False)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check each FILE (YAML or JSON) against docs/questionnaire-format.md: print what it
    holds, or every problem, one a line; exit 1 if any file has a problem."""
    failed = False
    for file in files:
        result = loader.load(file)
        if result.questionnaire is None:
            failed = True
            for problem in result.problems:
                click.echo(str(problem), err=True)
            continue
        questionnaire = result.questionnaire
        sections, questions = len(questionnaire.sections), len(questionnaire.questions)
        click.echo(
            f"{file}: OK — {sections} section{'s' * (sections != 1)}, "
            f"{questions} question{'s' * (questions != 1)}"
        )
    if failed:
        sys.exit(1)


@questionnaires_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Store FILE (our YAML or JSON, or a Google VSAQ JSON file: the format is told by the
    content) as the next version of its questionnaire. Unchanged content is a no-op. Every
    problem is printed as FILE:LINE: path: message, and nothing is stored (exit 1)."""
    # The app's modules, imported here: `validate` runs without the app or its database.
    from ..db import db
    from ..services.questionnaires import library as questionnaires
    from .common import cli_actor

    name = str(file)
    try:
        with open(file, "rb") as handle:
            data = handle.read(loader.MAX_BYTES + 1)
    except OSError as exc:
        click.echo(f"{name}: cannot read: {exc.strerror}", err=True)
        sys.exit(1)
    try:
        stored = questionnaires.import_file(db.session, data, name=name, actor=cli_actor())
    except questionnaires.QuestionnaireInvalid as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem{'s' * (count != 1)}: nothing was stored.", err=True)
        sys.exit(1)
    db.session.commit()
    version = stored.version
    key = questionnaires.questionnaire_of(version).id
    if stored.created:
        click.echo(f"stored as version {version.number} of {key}")
    else:
        click.echo(f"unchanged: version {version.number} of {key}")

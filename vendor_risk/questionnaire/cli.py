"""``flask --app app questionnaires validate FILE...``: check questionnaire files before they
are shipped or imported, as an author (or CI) would, without the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from . import loader

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

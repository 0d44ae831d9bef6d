"""``flask --app app questionnaires import FILE``: our YAML or JSON, or a VSAQ file; every
problem as FILE:LINE: path: message and nothing stored; unchanged content a no-op; the shipped
questionnaires stored at start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import count, events

from vendor_risk.models import Questionnaire, QuestionnaireVersion

SMALL = """\
format: 1
id: small
title: Small
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    questions:
      - id: mfa
        type: yes_no
        text: Do you use MFA?
      - id: mfa-kind
        type: single_choice
        text: Which kind?
        show_if: {question: mfa, equals: "yes"}
        options:
          - {value: totp, label: An authenticator app, score: 0.5}
          - {value: fido, label: A security key, score: 1}
"""

BROKEN = """\
format: 1
id: small
title: Small
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    questions:
      - id: mfa
        type: yes/no
        text: Do you use MFA?
      - id: mfa-kind
        type: single_choice
        text: Which kind?
        weight: 2
        show_if: {question: mfa-typo, equals: "yes"}
        options:
          - {value: totp, score: 5}
          - {value: fido, score: 1}
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def vsaq_document(*items: dict) -> str:
    """A VSAQ file as published: a licence header in comments, a root block, a section block."""
    root = {
        "type": "block",
        "text": "Vendor <b>security</b> review",
        "items": [{"type": "block", "text": "Access", "id": "access", "items": list(items)}],
    }
    header = "// Copyright 2024 Example Corp.\n// Licensed under the Apache License 2.0.\n"
    return header + json.dumps({"questionnaire": [root]}, indent=2)


VISIBILITY = Path(__file__).parent / "assets" / "vsaq_visibility.json"
YESNO = {"type": "yesno", "id": "uses_mfa", "text": "Do staff use MFA?", "yes": "Yes", "no": "No"}


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["questionnaires", *args])

    return invoke


def test_a_file_with_errors_prints_each_problem_with_its_line_and_stores_nothing(
    app, run, tmp_path
):
    path = tmp_path / "small.yaml"
    path.write_text(BROKEN)

    result = run("import", str(path))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:{line_of(BROKEN, 'yes/no')}: sections[0].questions[0].type: expected one of "
        "yes_no, yes_no_na, single_choice, multiple_choice, short_text, long_text, number, "
        "date, file, info, not 'yes/no'",
        f"{path}:{line_of(BROKEN, 'score: 5')}: sections[0].questions[1].options[0].score: "
        "must be at most 1, not 5",
        "2 problems: nothing was stored.",
    ]
    assert count(app, Questionnaire) == 0
    assert count(app, QuestionnaireVersion) == 0
    assert events(app, "questionnaire.version_created") == []


def test_a_second_round_of_problems_is_told_once_the_schema_fits(app, run, tmp_path):
    fixed = BROKEN.replace("type: yes/no", "type: yes_no").replace("score: 5", "score: 0.5")
    path = tmp_path / "small.yaml"
    path.write_text(fixed)

    result = run("import", str(path))

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:{line_of(fixed, 'mfa-typo')}: sections[0].questions[1].show_if.question: "
        "there is no question 'mfa-typo'"
    )
    assert count(app, QuestionnaireVersion) == 0


def test_import_stores_a_version_and_again_is_a_no_op_and_a_change_a_new_version(
    app, run, tmp_path
):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)

    first = run("import", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout == "stored as version 1 of small\n"

    # The same content again, even spelled differently (JSON, defaults written out): a no-op.
    again = tmp_path / "small.json"
    from vendor_risk.core.questionnaire import loader

    again.write_text(json.dumps(loader.parse(SMALL).questionnaire.to_document()))
    second = run("import", str(again))
    assert second.exit_code == 0, second.output
    assert second.stdout == "unchanged: version 1 of small\n"
    assert count(app, QuestionnaireVersion) == 1

    path.write_text(SMALL.replace("Do you use MFA?", "Do all your staff use MFA?"))
    third = run("import", str(path))
    assert third.exit_code == 0, third.output
    assert third.stdout == "stored as version 2 of small\n"

    assert count(app, Questionnaire) == 1
    assert count(app, QuestionnaireVersion) == 2
    created = events(app, "questionnaire.version_created")
    assert [e.details["number"] for e in created] == [1, 2]
    assert {e.details["source"] for e in created} == {"small.yaml"}
    assert all(e.actor.startswith("cli:") for e in created)


def test_a_vsaq_file_is_recognised_converted_and_stored(app, run, tmp_path):
    path = tmp_path / "vendor-review.json"
    path.write_text(vsaq_document(YESNO))

    result = run("import", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout == "stored as version 1 of vendor-review\n"
    (created,) = events(app, "questionnaire.version_created")
    assert created.details["source"] == "vsaq:vendor-review.json"
    assert run("import", str(path)).stdout == "unchanged: version 1 of vendor-review\n"


def test_a_vsaq_file_with_a_construct_that_cannot_be_imported_names_it(app, run, tmp_path):
    matrix = {"type": "matrix", "id": "app_auth", "text": "Rate each application"}
    text = vsaq_document(YESNO, matrix)
    path = tmp_path / "review.json"
    path.write_text(text)

    result = run("import", str(path))

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    item_line = line_of(text, '"matrix"') - 1  # the line where the item's { opens
    assert lines == [
        f'{path}:{item_line}: questionnaire[0].items[0].items[1] (id "app_auth"): '
        'item type "matrix" cannot be imported',
        "1 problem: nothing was stored.",
    ]
    assert count(app, QuestionnaireVersion) == 0


def test_a_vsaq_condition_without_equivalent_is_refused_with_its_place(app, run, tmp_path):
    follow_up = {
        "type": "line",
        "id": "mfa_vendor",
        "text": "Which MFA product?",
        "cond": "matches(uses_mfa, 'y.*')",
    }
    path = tmp_path / "review.json"
    path.write_text(vsaq_document(YESNO, follow_up))

    result = run("import", str(path))

    assert result.exit_code == 1
    assert 'the function "matches" has no equivalent' in result.stderr
    assert 'questionnaire[0].items[0].items[1] (id "mfa_vendor")' in result.stderr
    assert count(app, QuestionnaireVersion) == 0


def test_the_vsaq_visibility_fixture_imports(app, run):
    # Every use of the visibility operator ^ (tests/test_vsaq.py checks what each does).
    result = run("import", str(VISIBILITY))
    assert result.exit_code == 0, result.output
    assert result.stdout == "stored as version 1 of vsaq-visibility\n"
    assert count(app, QuestionnaireVersion) == 1


def test_a_file_that_is_not_text_or_missing_is_refused(app, run, tmp_path):
    binary = tmp_path / "small.yaml"
    binary.write_bytes(b"format: 1\nid: \xff\xfe\n")
    result = run("import", str(binary))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{binary}:2: not UTF-8 text"

    missing = run("import", str(tmp_path / "nowhere.yaml"))
    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    assert count(app, QuestionnaireVersion) == 0


def test_quickstart_stores_the_shipped_questionnaires_once(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.sqlite")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["quickstart", "--no-serve", "--no-demo"])
    assert first.exit_code == 0, first.output
    assert "Questionnaires stored:" in first.output
    assert count(app, Questionnaire) == 3

    again = runner.invoke(args=["quickstart", "--no-serve", "--no-demo"])
    assert again.exit_code == 0, again.output
    assert "Questionnaires stored:" not in again.output
    assert count(app, QuestionnaireVersion) == 3

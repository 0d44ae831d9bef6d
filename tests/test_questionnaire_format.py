"""Questionnaire files (docs/questionnaire-format.md): what an author sees when a file is wrong,
and what a vendor's answers do (shown questions, missing ones, answer checks, scores, findings).
Pure: no app, no database."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from vendor_risk.cli.questionnaires import questionnaires_cli
from vendor_risk.core.questionnaire import (
    InvalidAnswer,
    QuestionType,
    answer_score,
    from_document,
    holds,
    load,
    loader,
    missing_required,
    parse,
    triggered_findings,
    validate_answer,
    visible_questions,
)
from vendor_risk.core.questionnaire.markup import plain, sanitise

DOCS = Path(__file__).resolve().parent.parent / "docs"

HEADER = textwrap.dedent(
    """\
    format: 1
    id: test-questionnaire
    title: Test
    version: 1
    audience: {audience}
    sections:
      - id: main
        title: Main
        questions:
    """
)


def questionnaire_text(questions: str, extra: str = "", audience: str = "vendor") -> str:
    """A file with one section holding ``questions`` (YAML list items, unindented), then
    ``extra`` as it is (indented 4 for more fields of the section, 2 for more sections)."""
    body = textwrap.indent(textwrap.dedent(questions).rstrip("\n") + "\n", " " * 6)
    return HEADER.format(audience=audience) + body + (extra and extra.rstrip("\n") + "\n")


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the only line of ``text`` containing ``fragment``."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(lines) == 1, (fragment, lines)
    return lines[0]


def problems(text: str, name: str = "q.yaml") -> list[str]:
    result = parse(text, name)
    assert result.questionnaire is None
    return [str(p) for p in result.problems]


def loaded(text: str):
    result = parse(text, "q.yaml")
    assert result.ok, [str(p) for p in result.problems]
    return result.questionnaire


# Questions that show one another: the tests of conditions read this.
CHAIN = questionnaire_text(
    """\
    - id: uses-cloud
      type: yes_no
      text: Do you host in a public cloud?
    - id: providers
      type: multiple_choice
      text: Which providers?
      show_if: {question: uses-cloud, equals: "yes"}
      options:
        - {value: aws, score: 0.6}
        - {value: azure, score: 0.7}
        - {value: gcp, score: 0.2}
        - {value: other}
    - id: aws-regions
      type: short_text
      text: Which AWS regions?
      show_if: {question: providers, equals: aws}
    - id: region-notes
      type: long_text
      text: Anything about these regions?
      required: false
      show_if: {question: aws-regions, answered: true}
    - id: mfa
      type: yes_no_na
      text: Do you enforce MFA?
      critical: true
    - id: mfa-how
      type: single_choice
      text: How?
      show_if:
        all:
          - {question: mfa, one_of: ["yes"]}
          - not: {question: uses-cloud, equals: "no"}
      options:
        - {value: totp, label: An authenticator app, score: 0.8}
        - {value: webauthn, label: A security key, score: 1}
        - {value: sms, label: A text message, score: 0.3}
    - id: either
      type: info
      text: Thanks.
      show_if:
        any:
          - {question: mfa, equals: "no"}
          - {question: providers, one_of: [gcp, other]}
    """,
    extra="""\
    findings:
      - id: no-mfa
        when: {question: mfa, equals: "no"}
        severity: high
        title: No MFA
      - id: weak-mfa
        when: {question: mfa-how, equals: sms}
        severity: medium
        title: MFA by text message
""",
)


# ---- the format, as documented ------------------------------------------------------------


def test_the_schema_is_a_valid_json_schema_with_descriptions():
    schema = loader.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    question = schema["$defs"]["question"]["properties"]
    assert question["type"]["enum"] == [t.value for t in QuestionType]
    assert all("description" in field for name, field in question.items() if name != "id")


def test_the_documented_example_loads():
    text = (DOCS / "questionnaire-format.md").read_text()
    example = text.split("## A whole file")[1].split("```yaml\n")[1].split("```")[0]
    questionnaire = loaded(example)
    mfa = questionnaire.question("mfa-workforce")
    assert [q.id for q in questionnaire.questions] == ["uses-sso", "mfa-workforce"]
    assert (mfa.weight, mfa.critical, mfa.controls.iso27001) == (3, True, ("A.5.17", "A.8.5"))
    assert questionnaire.findings[0].id == "no-mfa"
    assert questionnaire.scored


def test_defaults_are_filled_in():
    questionnaire = loaded(
        questionnaire_text(
            """\
            - {id: a, type: yes_no_na, text: A?}
            - {id: b, type: short_text, text: B?}
            - {id: c, type: info, text: Read this.}
            """
        )
    )
    a, b, c = questionnaire.questions
    assert [(o.value, o.label, o.score) for o in a.options] == [
        ("yes", "Yes", 1),
        ("no", "No", 0),
        ("na", "Not applicable", None),
    ]
    assert (a.weight, a.required, a.critical, a.evidence) == (1, True, False, "none")
    assert (b.weight, b.scored, b.options) == (0, False, ())
    assert (c.required, c.scored) == (False, False)


def test_a_json_file_is_accepted_and_gives_the_same_questionnaire(tmp_path):
    document = yaml.safe_load(CHAIN)
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(document, indent="\t"))
    from_json = load(path)
    assert from_json.ok
    assert from_json.questionnaire.content_hash() == loaded(CHAIN).content_hash()


def test_json_problems_have_their_lines(tmp_path):
    document = yaml.safe_load(CHAIN)
    document["sections"][0]["questions"][0]["type"] = "yes-no"
    text = json.dumps(document, indent=2)
    (tmp_path / "q.json").write_text(text)
    result = load(tmp_path / "q.json")
    assert [str(p) for p in result.problems] == [
        f"{tmp_path / 'q.json'}:{line_of(text, 'yes-no')}: sections[0].questions[0].type: "
        "expected one of yes_no, yes_no_na, single_choice, multiple_choice, short_text, "
        "long_text, number, date, file, info, not 'yes-no'"
    ]


def test_from_document_checks_an_imported_document_without_lines():
    document = yaml.safe_load(CHAIN)
    document["sections"][0]["questions"][1]["options"][0]["score"] = 2
    result = from_document(document, name="vsaq:test")
    assert [str(p) for p in result.problems] == [
        "vsaq:test: sections[0].questions[1].options[0].score: must be at most 1, not 2"
    ]
    assert from_document(yaml.safe_load(CHAIN)).ok


def test_an_oversized_or_unreadable_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_BYTES", 100)
    (tmp_path / "big.yaml").write_text(CHAIN)
    assert "larger than 100 bytes" in str(load(tmp_path / "big.yaml").problems[0])
    assert "cannot read" in str(load(tmp_path / "missing.yaml").problems[0])


# ---- problems an author sees ---------------------------------------------------------------

# (questions, extra section fields, audience, the line's fragment, path, part of the message)
INVALID = {
    "unknown field": (
        "- {id: a, type: yes_no, text: A?, wieght: 2}",
        "",
        "vendor",
        "wieght",
        "sections[0].questions[0].wieght",
        "unknown field 'wieght': did you mean 'weight'?",
    ),
    "unknown type": (
        "- {id: a, type: boolean, text: A?}",
        "",
        "vendor",
        "boolean",
        "sections[0].questions[0].type",
        "expected one of yes_no, yes_no_na",
    ),
    "missing text": (
        "- {id: a, type: yes_no}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].text",
        "required, but missing",
    ),
    "bad id": (
        "- {id: Has Spaces, type: yes_no, text: A?}",
        "",
        "vendor",
        "Has Spaces",
        "sections[0].questions[0].id",
        "expected lower-case letters, digits, '-' and '_', not 'Has Spaces'",
    ),
    "unquoted no": (
        "- {id: a, type: yes_no, text: A?}\n- {id: b, type: yes_no, text: B?, "
        "show_if: {question: a, equals: no}}",
        "",
        "vendor",
        "id: b",
        "sections[0].questions[1].show_if.equals",
        'expected text, not false (in YAML, write "yes", "no", "on" or "off" in quotes',
    ),
    "key given twice": (
        "- id: a\n  type: yes_no\n  text: A?\n  text: Again?",
        "",
        "vendor",
        "Again?",
        "sections[0].questions[0].text",
        "given twice in this entry",
    ),
    "question id twice": (
        "- {id: a, type: yes_no, text: A?}\n- {id: a, type: yes_no, text: Again?}",
        "",
        "vendor",
        "Again?",
        "sections[0].questions[1].id",
        "question id 'a' is used twice (also at sections[0].questions[0])",
    ),
    "question id twice across sections": (
        "- {id: a, type: yes_no, text: A?}",
        "  - id: second\n    title: Second\n    questions:\n"
        "      - {id: a, type: yes_no, text: Again?}",
        "vendor",
        "Again?",
        "sections[1].questions[0].id",
        "question id 'a' is used twice (also at sections[0].questions[0])",
    ),
    "section id twice": (
        "- {id: a, type: yes_no, text: A?}",
        "  - title: Again\n    id: main\n    questions:\n      - {id: b, type: yes_no, text: B?}",
        "vendor",
        "    id: main",
        "sections[1].id",
        "section id 'main' is used twice",
    ),
    "option value twice": (
        "- id: a\n  type: single_choice\n  text: A?\n  options: [{value: x}, {value: y}, "
        "{value: x, label: again}]",
        "",
        "vendor",
        "options:",
        "sections[0].questions[0].options[2].value",
        "option 'x' is given twice",
    ),
    "finding id twice": (
        "- {id: a, type: yes_no, text: A?}",
        "    findings:\n"
        "      - {id: f, when: {question: a, answered: true}, severity: low, title: F}\n"
        "      - {id: f, when: {question: a, answered: false}, severity: low, title: Again}",
        "vendor",
        "Again",
        "sections[0].findings[1].id",
        "finding id 'f' is used twice",
    ),
    "condition on a later question": (
        "- {id: a, type: yes_no, text: A?, show_if: {question: b, equals: 'yes'}}\n"
        "- {id: b, type: yes_no, text: B?}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].show_if.question",
        "'b' comes later in the file: a condition may only refer to questions before it",
    ),
    "condition on no question": (
        "- {id: mfa-staff, type: yes_no, text: A?}\n"
        "- {id: b, type: yes_no, text: B?, show_if: {question: mfa-staf, answered: true}}",
        "",
        "vendor",
        "id: b",
        "sections[0].questions[1].show_if.question",
        "there is no question 'mfa-staf': did you mean 'mfa-staff'?",
    ),
    "condition on itself": (
        "- {id: a, type: yes_no, text: A?, show_if: {question: a, answered: true}}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].show_if.question",
        "cannot read the question itself",
    ),
    "condition on a value that is no option": (
        "- {id: a, type: yes_no, text: A?}\n- id: b\n  type: yes_no\n  text: B?\n"
        "  show_if:\n    any:\n      - {question: a, one_of: ['yes', maybe]}",
        "",
        "vendor",
        "one_of",
        "sections[0].questions[1].show_if.any[0].one_of[1]",
        "'a' has no option 'maybe' (it has yes, no)",
    ),
    "equals on a text question": (
        "- {id: a, type: short_text, text: A?}\n- id: b\n  type: yes_no\n  text: B?\n"
        "  show_if: {question: a, equals: hello}",
        "",
        "vendor",
        "show_if",
        "sections[0].questions[1].show_if.equals",
        "'a' is a short_text question: test it with answered: true or false",
    ),
    "condition form unclear": (
        "- {id: a, type: yes_no, text: A?}\n- id: b\n  type: yes_no\n  text: B?\n"
        "  show_if: {question: a}",
        "",
        "vendor",
        "show_if",
        "sections[0].questions[1].show_if",
        "needs one of the fields equals, one_of, answered",
    ),
    "finding on a later section": (
        "- {id: a, type: yes_no, text: A?}",
        "    findings:\n"
        "      - {id: f, when: {question: b, equals: 'no'}, severity: low, title: F}\n"
        "  - id: second\n    title: Second\n    questions:\n"
        "      - {id: b, type: yes_no, text: B?}",
        "vendor",
        "id: f",
        "sections[0].findings[0].when.question",
        "'b' comes later in the file",
    ),
    "yes_no options other than yes and no": (
        "- id: a\n  type: yes_no\n  text: A?\n  options: [{value: 'yes'}, {value: nope}]",
        "",
        "vendor",
        "options:",
        "sections[0].questions[0].options",
        "the options of a yes_no question must be exactly 'yes' and 'no'",
    ),
    "na with a score": (
        "- id: a\n  type: yes_no_na\n  text: A?\n  options:\n    - {value: 'yes'}\n"
        "    - {value: 'no'}\n    - {value: na, score: 0.5}",
        "",
        "vendor",
        "value: na",
        "sections[0].questions[0].options[2].score",
        "na has no score",
    ),
    "one option only": (
        "- id: a\n  type: single_choice\n  text: A?\n  options: [{value: only, score: 1}]",
        "",
        "vendor",
        "options:",
        "sections[0].questions[0].options",
        "a single_choice question needs at least two options",
    ),
    "score above 1": (
        "- id: a\n  type: single_choice\n  text: A?\n  options:\n    - {value: x, score: 1.5}\n"
        "    - {value: y, score: 0}",
        "",
        "vendor",
        "1.5",
        "sections[0].questions[0].options[0].score",
        "must be at most 1, not 1.5",
    ),
    "no scored option": (
        "- id: a\n  type: single_choice\n  text: A?\n  options: [{value: x}, {value: y}]",
        "",
        "vendor",
        "options:",
        "sections[0].questions[0].options",
        "no option has a score",
    ),
    "weight on an unscored type": (
        "- {id: a, type: short_text, text: A?, weight: 2}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].weight",
        "a short_text question has no score: leave weight out",
    ),
    "critical on an unscored type": (
        "- {id: a, type: long_text, text: A?, critical: true}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].critical",
        "cannot fail",
    ),
    "options on a number": (
        "- id: a\n  type: number\n  text: A?\n  options: [{value: x}, {value: y}]",
        "",
        "vendor",
        "options:",
        "sections[0].questions[0].options",
        "only yes_no, yes_no_na, single_choice and multiple_choice questions take options",
    ),
    "min above max": (
        "- {id: a, type: number, text: A?, min: 10, max: 1}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].max",
        "max (1) is below min (10)",
    ),
    "inherent in a vendor questionnaire": (
        "- {id: a, type: yes_no, text: A?, inherent: criticality}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].inherent",
        "only an internal questionnaire (audience: internal) informs inherent risk",
    ),
    "required info": (
        "- {id: a, type: info, text: Read me., required: true}",
        "",
        "vendor",
        "id: a",
        "sections[0].questions[0].required",
        "an info text takes no answer",
    ),
    "CSF 1.1 identifier": (
        "- id: a\n  type: yes_no\n  text: A?\n  controls:\n    nist_csf: [PR.AA-01, PR.AC-1]",
        "",
        "vendor",
        "nist_csf",
        "sections[0].questions[0].controls.nist_csf[1]",
        "'PR.AC-1' is a CSF 1.1 identifier",
    ),
    "CSF number without its zero": (
        "- id: a\n  type: yes_no\n  text: A?\n  controls:\n    nist_csf: [PR.AA-3]",
        "",
        "vendor",
        "nist_csf",
        "sections[0].questions[0].controls.nist_csf[0]",
        "write 'PR.AA-03', with two digits",
    ),
    "CSF number withdrawn": (
        "- id: a\n  type: yes_no\n  text: A?\n  controls:\n    nist_csf: [PR.DS-03]",
        "",
        "vendor",
        "nist_csf",
        "sections[0].questions[0].controls.nist_csf[0]",
        "PR.DS has no subcategory 03 (it has 01, 02, 10, 11)",
    ),
    "ISO control out of range": (
        "- id: a\n  type: yes_no\n  text: A?\n  controls:\n    iso27001:\n      - A.5.1\n"
        "      - A.5.38",
        "",
        "vendor",
        "A.5.38",
        "sections[0].questions[0].controls.iso27001[1]",
        "'A.5.38' is not an ISO/IEC 27001:2022 Annex A control",
    ),
    "text with nothing safe in it": (
        "- {id: a, type: yes_no, text: '<script>alert(1)</script>'}",
        "",
        "vendor",
        "script",
        "sections[0].questions[0].text",
        "nothing is left once the markup not allowed is removed",
    ),
}


@pytest.mark.parametrize(("case"), INVALID.values(), ids=INVALID.keys())
def test_each_problem_is_told_with_file_line_and_field(case):
    questions, extra, audience, fragment, path, message = case
    text = questionnaire_text(questions, extra, audience)
    found = problems(text)
    line = line_of(text + "\n", fragment)
    assert any(p.startswith(f"q.yaml:{line}: {path}: ") and message in p for p in found), found


def test_every_problem_is_reported_at_once():
    text = questionnaire_text(
        """\
        - {id: a, type: short_text, text: A?, weight: 1}
        - {id: a, type: yes_no, text: B?, show_if: {question: c, answered: true}}
        - {id: c, type: number, text: C?, min: 3, max: 2}
        """
    )
    assert [p.split(": ")[1] for p in problems(text)] == [
        "sections[0].questions[0].weight",
        "sections[0].questions[1].id",
        "sections[0].questions[1].show_if.question",
        "sections[0].questions[2].max",
    ]


def test_inherent_is_accepted_in_an_internal_questionnaire():
    questionnaire = loaded(
        questionnaire_text(
            """\
            - id: critical-service
              type: single_choice
              text: Would losing this vendor stop a critical service?
              inherent: criticality
              options:
                - {value: none, score: 1}
                - {value: some, score: 0.5}
                - {value: critical, score: 0}
            """,
            audience="internal",
        )
    )
    assert questionnaire.question("critical-service").inherent == "criticality"


# ---- conditions ----------------------------------------------------------------------------


def shown(answers: dict) -> list[str]:
    return [q.id for q in visible_questions(loaded(CHAIN), answers)]


def test_equals_one_of_and_answered():
    assert shown({}) == ["uses-cloud", "mfa"]
    assert shown({"uses-cloud": "yes"}) == ["uses-cloud", "providers", "mfa"]
    # Multiple choice: equals holds when the value is among those chosen.
    assert "aws-regions" in shown({"uses-cloud": "yes", "providers": ("azure", "aws")})
    assert "aws-regions" not in shown({"uses-cloud": "yes", "providers": ("azure",)})
    base = {"uses-cloud": "yes", "providers": ("aws",)}
    assert "region-notes" not in shown({**base, "aws-regions": ""})
    assert "region-notes" in shown({**base, "aws-regions": "eu-west-1"})


def test_all_any_and_not_nest():
    assert "mfa-how" in shown({"uses-cloud": "yes", "mfa": "yes"})
    assert "mfa-how" not in shown({"uses-cloud": "no", "mfa": "yes"})  # the not
    assert "mfa-how" not in shown({"uses-cloud": "yes", "mfa": "na"})  # the one_of
    cloud = {"uses-cloud": "yes"}
    assert "either" in shown({**cloud, "mfa": "no"})  # the first of any
    assert "either" in shown({**cloud, "providers": ("aws", "other")})  # the second
    assert "either" not in shown({**cloud, "providers": ("aws",), "mfa": "yes"})


def test_a_question_reading_a_hidden_question_is_hidden():
    # aws-regions and region-notes still carry answers given before uses-cloud became "no".
    answers = {
        "uses-cloud": "no",
        "providers": ("aws",),
        "aws-regions": "eu-west-1",
        "region-notes": "none",
    }
    assert shown(answers) == ["uses-cloud", "mfa"]
    # The condition alone would hold: the rule hides it all the same.
    assert holds(loaded(CHAIN).question("aws-regions").show_if, answers)
    # Even through any: "either" reads providers, hidden, so its first branch is not enough.
    assert "either" not in shown({"uses-cloud": "no", "mfa": "no"})


def test_missing_required_lists_only_questions_asked_and_unanswered():
    questionnaire = loaded(CHAIN)
    missing = missing_required(questionnaire, {"uses-cloud": "yes", "providers": []})
    assert [q.id for q in missing] == ["providers", "mfa"]  # an empty choice is no answer
    answers = {"uses-cloud": "yes", "providers": ("aws",), "aws-regions": "eu", "mfa": "na"}
    # region-notes is not required, either (info) is never required.
    assert missing_required(questionnaire, answers) == ()


def test_findings_open_when_their_condition_holds_on_questions_asked():
    questionnaire = loaded(CHAIN)
    assert [f.id for f in triggered_findings(questionnaire, {"mfa": "no"})] == ["no-mfa"]
    answers = {"uses-cloud": "yes", "mfa": "yes", "mfa-how": "sms"}
    assert [f.id for f in triggered_findings(questionnaire, answers)] == ["weak-mfa"]
    # mfa-how is hidden once the vendor says it does not use a cloud: its old answer is moot.
    assert triggered_findings(questionnaire, {**answers, "uses-cloud": "no"}) == ()


ANSWER_VALUES = {
    "uses-cloud": st.sampled_from(["yes", "no"]),
    "providers": st.lists(st.sampled_from(["aws", "azure", "gcp", "other"]), unique=True),
    "aws-regions": st.sampled_from(["", "eu-west-1"]),
    "region-notes": st.sampled_from(["", "text"]),
    "mfa": st.sampled_from(["yes", "no", "na"]),
    "mfa-how": st.sampled_from(["totp", "webauthn", "sms"]),
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=ANSWER_VALUES))
def test_no_question_is_shown_whose_condition_is_false(answers):
    questionnaire = loaded(CHAIN)
    visible = visible_questions(questionnaire, answers)
    visible_ids = {q.id for q in visible}
    for question in visible:
        if question.show_if is not None:
            assert holds(question.show_if, answers)
            assert set(question.show_if.questions()) <= visible_ids
    for question in missing_required(questionnaire, answers):
        assert question in visible


# ---- one answer ----------------------------------------------------------------------------

ANSWERS_QUESTIONNAIRE = questionnaire_text(
    """\
    - {id: yn, type: yes_no, text: A?}
    - {id: count, type: number, text: How many?, min: 0, max: 100}
    - {id: since, type: date, text: Since when?}
    - {id: name, type: short_text, text: Name?}
    - {id: story, type: long_text, text: Tell us.}
    - {id: proof, type: file, text: Attach.}
    - {id: note, type: info, text: Read.}
    - id: pick
      type: multiple_choice
      text: Pick.
      options: [{value: a, score: 0.5}, {value: b, score: 0.75}, {value: c}]
    """
)


@pytest.mark.parametrize(
    ("question", "raw", "stored"),
    [
        ("yn", "Yes ", "yes"),
        ("yn", "", None),
        ("count", "42", 42),
        ("count", 2.5, 2.5),
        ("count", "0.5", 0.5),
        ("count", " ", None),
        ("since", "2024-02-29", "2024-02-29"),
        ("name", "  Jane  ", "Jane"),
        ("story", "line\r\nline", "line\nline"),
        ("proof", "evidence-1", ("evidence-1",)),
        ("pick", ["b", "a", "b"], ("a", "b")),
        ("pick", [], None),
        ("note", None, None),
    ],
)
def test_answers_are_stored_in_one_spelling(question, raw, stored):
    assert validate_answer(loaded(ANSWERS_QUESTIONNAIRE).question(question), raw) == stored


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        ("yn", "maybe", "Choose one of the answers offered."),
        ("yn", True, "Choose one of the answers offered."),
        ("count", "twelve", "Write a number"),
        ("count", "nan", "Write a number"),
        ("count", True, "Write a number"),
        ("count", "1e400", "Write a number"),
        ("count", 10**400, "Write a number"),
        ("count", "sNaN", "Write a number"),
        ("count", 101, "The answer must be at most 100."),
        ("count", -1, "The answer must be at least 0."),
        ("since", "2024-02-30", "Write a date like 2024-03-31."),
        ("since", "31/03/2024", "Write a date like 2024-03-31."),
        ("name", "x" * 501, "Keep the answer within 500 characters (501)."),
        ("name", "a\x00b", "characters that cannot be typed"),
        ("story", "x" * 20_001, "Keep the answer within 20,000 characters"),
        ("pick", ["a", "z"], "Choose among the answers offered."),
        ("proof", [""], "Attach the evidence files."),
        ("note", "anything", "it takes no answer"),
    ],
)
def test_answers_that_do_not_fit_are_refused_with_a_message(question, raw, message):
    with pytest.raises(InvalidAnswer, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_answer(loaded(ANSWERS_QUESTIONNAIRE).question(question), raw)


def test_answer_scores():
    chain, answers = loaded(CHAIN), loaded(ANSWERS_QUESTIONNAIRE)
    assert answer_score(answers.question("yn"), "yes") == 1
    assert answer_score(answers.question("yn"), "no") == 0
    assert answer_score(chain.question("mfa"), "na") is None
    assert answer_score(chain.question("mfa-how"), "totp") == 0.8
    assert answer_score(chain.question("mfa"), None) is None
    assert answer_score(answers.question("name"), "Jane") is None  # an unscored type
    pick = answers.question("pick")
    assert answer_score(pick, ["a"]) == 0.5
    assert answer_score(pick, ["a", "b"]) == 1  # 1.25, capped
    assert answer_score(pick, ["a", "c"]) == 0.5  # c has no score
    assert answer_score(pick, ["c"]) is None
    assert answer_score(chain.question("providers"), ["aws", "gcp"]) == 0.8


# ---- versions ------------------------------------------------------------------------------


def reversed_keys(node):
    if isinstance(node, dict):
        return {k: reversed_keys(v) for k, v in reversed(node.items())}
    if isinstance(node, list):
        return [reversed_keys(v) for v in node]
    return node


def test_the_hash_ignores_key_order_and_defaults_written_out():
    questionnaire = loaded(CHAIN)
    document = questionnaire.to_document()
    assert from_document(document).questionnaire == questionnaire
    shuffled = yaml.safe_dump(reversed_keys(document), sort_keys=False)
    assert loaded(shuffled).content_hash() == questionnaire.content_hash()
    # Written out in full, the defaults make a longer file with the same content.
    assert len(shuffled) > len(CHAIN)
    assert loaded(CHAIN.replace("critical: true", "critical: true\n        weight: 1.0")) == (
        questionnaire
    )


def test_the_hash_changes_with_the_content():
    questionnaire = loaded(CHAIN)
    for change in [
        ("Which providers?", "Which cloud providers?"),
        ("score: 0.6", "score: 0.5"),
        ("critical: true", "critical: false"),
        ("version: 1", "version: 2"),
    ]:
        changed = loaded(CHAIN.replace(*change))
        assert changed.content_hash() != questionnaire.content_hash(), change
    assert len(questionnaire.content_hash()) == 64


# ---- markup --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("<script>alert(1)</script>Hello", "Hello"),
        ('<b onclick="steal()">Bold</b>', "<b>Bold</b>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<a href="java&#x73;cript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<a href="/admin/users">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<img src="x" onerror="alert(1)">Text', "Text"),
        ('<p style="color:red">Red</p>', "<p>Red</p>"),
        ("<iframe src='https://evil.example'></iframe>", ""),
        ("a < b & c", "a &lt; b &amp; c"),
        (
            '<a href="https://example.com/x" target="_blank">Policy</a>',
            '<a href="https://example.com/x" rel="noopener noreferrer">Policy</a>',
        ),
        (
            '<a href="mailto:security@example.com">mail</a>',
            '<a href="mailto:security@example.com" rel="noopener noreferrer">mail</a>',
        ),
        (
            "<p>One <strong>two</strong> <em>three</em> <i>i</i> <code>c</code><br>four</p>"
            "<ul><li>x</li></ul><ol><li>y</li></ol>",
            "<p>One <strong>two</strong> <em>three</em> <i>i</i> <code>c</code><br>four</p>"
            "<ul><li>x</li></ul><ol><li>y</li></ol>",
        ),
    ],
)
def test_markup_keeps_only_the_safe_subset(given, kept):
    assert sanitise(given) == kept
    assert sanitise(kept) == kept


def test_texts_are_sanitised_when_loaded():
    questionnaire = loaded(
        questionnaire_text(
            """\
            - id: a
              type: yes_no
              text: 'Do you <b>encrypt</b>?<script>alert(1)</script>'
              help: '<a href="https://example.com" onclick="x()">Why</a>'
            """
        ).replace("title: Test", "title: '<i>Test</i><style>*{}</style>'")
    )
    question = questionnaire.questions[0]
    assert questionnaire.title == "<i>Test</i>"
    assert question.text == "Do you <b>encrypt</b>?"
    assert question.help == '<a href="https://example.com" rel="noopener noreferrer">Why</a>'


def test_plain_text_for_places_without_markup():
    text = '<p>Read <a href="https://example.com/p">the policy</a> &amp; sign.</p><p>Then<br>go</p>'
    assert plain(text) == "Read the policy (https://example.com/p) & sign.\nThen\ngo"
    assert plain("<script>x</script><b>1 < 2</b>") == "1 < 2"


# ---- the command ---------------------------------------------------------------------------


def test_validate_says_ok_with_what_the_file_holds(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text(CHAIN)
    result = CliRunner().invoke(questionnaires_cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: OK — 1 section, 7 questions\n"


def test_validate_prints_every_problem_and_fails(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(CHAIN)
    text = CHAIN.replace("type: yes_no_na", "type: yes/no").replace("score: 0.6", "score: 6")
    bad.write_text(text)
    result = CliRunner().invoke(questionnaires_cli, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{good}: OK — 1 section, 7 questions",
        f"{bad}:{line_of(text, 'score: 6')}: sections[0].questions[1].options[0].score: "
        "must be at most 1, not 6",
        f"{bad}:{line_of(text, 'yes/no')}: sections[0].questions[4].type: expected one of "
        "yes_no, yes_no_na, single_choice, multiple_choice, short_text, long_text, number, "
        "date, file, info, not 'yes/no'",
    ]


def test_what_is_not_a_document_at_all_is_refused():
    result = from_document(None, name="import")
    assert [str(p) for p in result.problems] == [
        "import: (top level): expected a mapping (field: value), not null"
    ]

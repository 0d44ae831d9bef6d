"""Import of VSAQ questionnaires: one small document per rule, written here (never copied from
the VSAQ repository), plus property tests of the condition parser. Pure: no app, no database."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vendor_risk.core.questionnaire import (
    from_document,
    missing_required,
    triggered_findings,
    visible_questions,
)
from vendor_risk.core.questionnaire import holds as app_holds
from vendor_risk.core.questionnaire.vsaq import (
    MAX_BLOCK_DEPTH,
    MAX_BYTES,
    MAX_CONDITION_TESTS,
    VsaqError,
    convert,
    looks_like_vsaq,
)

HEADER = """/*
 * Copyright 2024 Example Corp.
 * Licensed under the Apache License, Version 2.0.
 */
"""


def block(text: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "block", "text": text, "items": list(items), **extra}


def vsaq(*items: dict[str, Any], header: str = HEADER) -> str:
    """A VSAQ document as published: a licence header, one root block, one section block."""
    root = block("Test questionnaire", block("Main", *items, id="main"))
    return header + json.dumps({"questionnaire": [root]}, indent=2)


def rooted(*items: dict[str, Any], text: str = "Root") -> str:
    """A document whose root block holds `items` (its blocks are the sections)."""
    return json.dumps({"questionnaire": [block(text, *items)]})


def questions(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for section in result["sections"] for q in section["questions"]}


def findings(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for section in result["sections"] for f in section.get("findings", [])}


def problems(text: str) -> list[str]:
    with pytest.raises(VsaqError) as caught:
        convert(text, name="test.json")
    return caught.value.problems


def yesno(vsaq_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "yesno", "id": vsaq_id, "text": f"Question {vsaq_id}?", **extra}


def radiogroup(vsaq_id: str, *choices: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "radiogroup",
        "id": vsaq_id,
        "text": f"Choose {vsaq_id}",
        "choices": [{choice: f"Choice {choice}"} for choice in choices],
        **extra,
    }


def line(vsaq_id: str, cond: str | None = None, **extra: Any) -> dict[str, Any]:
    item = {"type": "line", "id": vsaq_id, "text": f"Tell us about {vsaq_id}", **extra}
    if cond is not None:
        item["cond"] = cond
    return item


def show_if(cond: str, *earlier: dict[str, Any]) -> Any:
    return questions(convert(vsaq(*earlier, line("target", cond))))["target"].get("show_if")


# ---- the document as a whole -----------------------------------------------------------------


def test_a_whole_document_becomes_our_format():
    result = convert(vsaq(yesno("mfa")), name="questionnaires/web_app.json")
    assert result["format"] == 1
    assert result["id"] == "web-app"
    assert result["title"] == "Test questionnaire"
    assert result["version"] == 1
    assert result["audience"] == "vendor"
    assert [s["id"] for s in result["sections"]] == ["main"]
    assert result["sections"][0]["title"] == "Main"


def test_id_and_title_can_be_given():
    result = convert(vsaq(yesno("mfa")), questionnaire_id="imported", title="Imported")
    assert (result["id"], result["title"]) == ("imported", "Imported")


def test_without_a_file_name_the_id_comes_from_the_title():
    assert convert(vsaq(yesno("mfa")))["id"] == "test-questionnaire"


def test_an_invalid_questionnaire_id_is_refused():
    with pytest.raises(VsaqError, match='questionnaire id "Not Valid"'):
        convert(vsaq(yesno("mfa")), questionnaire_id="Not Valid")


def test_blocks_of_the_root_are_sections_and_loose_items_gather_in_general():
    result = convert(
        rooted(
            {"type": "info", "text": "Welcome"},
            block("Network", yesno("fw"), id="Net"),
            block("Data & Storage", yesno("enc")),
        )
    )
    assert [(s["id"], s["title"]) for s in result["sections"]] == [
        ("general", "General"),
        ("net", "Network"),
        ("data-storage", "Data & Storage"),
    ]


def test_top_level_blocks_without_a_root_are_sections_too():
    top = [block("One", yesno("a"), id="one"), block("Two", yesno("b"), id="two")]
    result = convert(json.dumps({"questionnaire": top}), name="x.json")
    assert [s["id"] for s in result["sections"]] == ["one", "two"]
    assert result["title"] == "Imported VSAQ questionnaire"


def test_a_nested_block_is_flattened_with_its_text_and_condition():
    nested = {
        "type": "block",
        "id": "fw_details",
        "text": "Firewall details",
        "cond": "fw",
        "items": [yesno("dmz"), block("Deeper", yesno("zones"))],
    }
    result = convert(vsaq(yesno("fw"), nested, yesno("after")))
    assert [q["id"] for q in result["sections"][0]["questions"]] == [
        "fw",
        "fw_details",
        "dmz",
        "deeper",
        "zones",
        "after",
    ]
    found = questions(result)
    on_fw = {"question": "fw", "equals": "yes"}
    assert found["fw_details"] == {
        "id": "fw_details",
        "type": "info",
        "text": "Firewall details",
        "show_if": on_fw,
    }
    assert found["dmz"]["show_if"] == on_fw
    assert found["zones"]["show_if"] == on_fw
    assert "show_if" not in found["after"]


def test_conditions_of_enclosing_blocks_and_the_item_are_joined():
    nested = block("", yesno("c", cond="b"), cond="a")
    found = questions(convert(vsaq(yesno("a"), yesno("b"), nested)))
    assert found["c"]["show_if"] == {
        "all": [{"question": "a", "equals": "yes"}, {"question": "b", "equals": "yes"}]
    }


# ---- item types --------------------------------------------------------------------------------


def test_yesno_becomes_yes_no_with_its_labels():
    found = questions(convert(vsaq(yesno("mfa", yes="Yes, everywhere", no="Not yet"))))
    assert found["mfa"]["type"] == "yes_no"
    assert found["mfa"]["text"] == "Question mfa?"
    assert [(o["value"], o["label"]) for o in found["mfa"]["options"]] == [
        ("yes", "Yes, everywhere"),
        ("no", "Not yet"),
    ]
    assert "required" not in found["mfa"]  # our default: required


def test_radiogroup_becomes_single_choice_with_radio_ids_as_values():
    found = questions(convert(vsaq(radiogroup("tls", "tls_only", "tls_mixed"))))
    assert found["tls"]["type"] == "single_choice"
    assert found["tls"]["options"] == [
        {"value": "tls_only", "label": "Choice tls_only", "score": 1},
        {"value": "tls_mixed", "label": "Choice tls_mixed", "score": 1},
    ]


def test_checkgroup_becomes_multiple_choice_and_default_choice_adds_none_of_the_above():
    group = {
        "type": "checkgroup",
        "id": "controls",
        "text": "Which controls?",
        "defaultChoice": True,
        "choices": [{"ctl_cctv": "CCTV"}, {"ctl_guards": "Guards"}],
    }
    question = questions(convert(vsaq(group)))["controls"]
    assert question["type"] == "multiple_choice"
    assert question["required"] is False
    assert question["weight"] == 0
    assert [(o["value"], o["label"]) for o in question["options"]] == [
        ("ctl_cctv", "CCTV"),
        ("ctl_guards", "Guards"),
        ("none-of-the-above", "None of the above."),
    ]


def test_a_lone_check_becomes_yes_no():
    check = {"type": "check", "id": "declare", "text": "I declare this is true."}
    question = questions(convert(vsaq(check)))["declare"]
    assert question["type"] == "yes_no"
    assert question["text"] == "I declare this is true."


def test_a_checkgroup_of_one_choice_becomes_yes_no():
    group = {"type": "checkgroup", "id": "options", "choices": [{"req_pii": "We process PII"}]}
    found = questions(convert(vsaq(group, line("dpo", "req_pii"))))
    assert found["options"]["type"] == "yes_no"
    assert found["options"]["text"] == "We process PII"
    assert found["dpo"]["show_if"] == {"question": "options", "equals": "yes"}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"type": "line", "id": "x", "text": "Name?"}, {"type": "short_text", "required": False}),
        (
            {"type": "line", "id": "x", "text": "Name?", "required": True},
            {"type": "short_text"},
        ),
        (
            {"type": "line", "id": "x", "text": "Since?", "inputType": "date"},
            {"type": "date", "required": False},
        ),
        ({"type": "box", "id": "x", "text": "Describe"}, {"type": "long_text", "required": False}),
        ({"type": "upload", "id": "x", "text": "Policy"}, {"type": "file", "required": False}),
        ({"type": "info", "id": "x", "text": "Read this"}, {"type": "info"}),
        (
            {"type": "tip", "id": "x", "text": "A hint"},
            {"type": "info", "text": "A hint"},
        ),
    ],
)
def test_value_and_text_items(item, expected):
    question = questions(convert(vsaq(item)))["x"]
    assert {key: question.get(key) for key in expected} == expected
    if "required" not in expected:
        assert "required" not in question


def test_spacers_are_dropped_and_ids_are_made_for_items_without_one():
    items = [
        {"type": "spacer"},
        {"type": "info", "text": "First"},
        {"type": "info", "text": "Second"},
        {"type": "radiogroup", "text": "Where?", "choices": [{"loc_eu": "EU"}, {"loc_us": "US"}]},
    ]
    result = convert(vsaq(*items))
    assert [q["id"] for q in result["sections"][0]["questions"]] == ["info", "info-2", "loc"]


def test_html_in_texts_is_left_for_the_loader():
    text = '<p>Do you use <a href="https://example.com">MFA</a>?<script>x()</script></p>'
    question = questions(convert(vsaq(yesno("mfa", text=text))))["mfa"]
    assert question["text"] == text


# ---- reading the file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "// Copyright 2024 Example Corp.\n// Licensed under the Apache License.\n\n",
        HEADER,
        "\ufeff/* one line */ // and another\n",
        "",
    ],
    ids=["slashes", "block", "bom-and-both", "none"],
)
def test_comment_headers_are_skipped(header):
    assert questions(convert(vsaq(yesno("mfa"), header=header)))["mfa"]["type"] == "yes_no"


def test_javascript_string_concatenation_and_x_escapes_are_read():
    text = vsaq(yesno("mfa", text="PLACEHOLDER"))
    text = text.replace('"PLACEHOLDER"', '"<p>Part one, " +\n   "part two" + "\\x21</p>"')
    assert questions(convert(text))["mfa"]["text"] == "<p>Part one, part two!</p>"


def test_a_comment_marker_inside_a_string_is_text():
    text = vsaq(info := {"type": "info", "id": "x", "text": "See http://example.com/*x*/ // y"})
    assert questions(convert(text))["x"]["text"] == info["text"]


def test_invalid_json_is_reported_with_its_line():
    text = HEADER + '{\n  "questionnaire": [\n    {"type": "block",, "items": []}\n  ]\n}\n'
    (problem,) = problems(text)
    assert problem.startswith("test.json:7:")
    assert "not valid JSON" in problem


def test_line_numbers_stay_right_after_a_concatenation():
    text = '{"questionnaire": [{"type": "info", "text": "a" +\n\n "b"},\n oops]}'
    (problem,) = problems(text)
    assert problem.startswith("test.json:4:")


def test_an_unclosed_comment_is_reported():
    assert problems('// fine\n/* never closed\n{"questionnaire": []}') == [
        "test.json:2: a /* comment is never closed"
    ]


def test_the_top_level_must_hold_a_questionnaire_list():
    assert problems('{"items": []}') == [
        'test.json: expected an object with a "questionnaire" list'
    ]
    assert "extension template" in problems('{"extensions": []}')[0]


def test_documents_over_the_size_limit_are_refused():
    text = vsaq(yesno("mfa")) + " " * MAX_BYTES
    (problem,) = problems(text)
    assert "more than the" in problem


def test_blocks_nested_too_deep_are_refused_without_crashing():
    item: dict[str, Any] = yesno("deep")
    for _ in range(MAX_BLOCK_DEPTH + 2):
        item = block("Nested", item)
    found = problems(json.dumps({"questionnaire": [item]}))
    assert any(f"nested deeper than {MAX_BLOCK_DEPTH} levels" in p for p in found)


def test_numbers_too_long_for_python_are_refused_without_crashing():
    (problem,) = problems('{"questionnaire": [' + "1" * 5000 + "]}")
    assert "not valid JSON" in problem


def test_a_long_condition_is_quoted_shortened_in_its_problem():
    (problem,) = problems(vsaq(yesno("a"), line("target", "!" * 1000 + "a")))
    assert "nested deeper than" in problem
    assert len(problem) < 300


def test_json_nested_absurdly_deep_is_refused_without_crashing():
    text = '{"questionnaire": ' + "[" * 100_000 + "]" * 100_000 + "}"
    (problem,) = problems(text)
    assert "nested deeper than" in problem


# ---- problems ----------------------------------------------------------------------------------


def test_an_unsupported_item_type_is_named_with_its_location():
    matrix = {"type": "matrix", "id": "app_auth", "text": "Grid"}
    (problem,) = problems(vsaq(yesno("a"), matrix))
    assert re.fullmatch(
        r'test\.json:\d+: questionnaire\[0\]\.items\[0\]\.items\[1\] \(id "app_auth"\): '
        r'item type "matrix" cannot be imported',
        problem,
    )


def test_problems_give_their_line_in_the_order_of_the_document():
    text = (
        "// Copyright 2024 Example Corp.\n"
        "/* Licensed under the Apache License,\n   Version 2.0. */\n"
        '{"questionnaire": [{"type": "block", "text": "R", "items": [\n'
        '  {"type": "yesno", "id": "a", "text": "A, " +\n'
        '     "continued"},\n'
        '  {"type": "line", "id": "b", "text": "B", "cond": "nope"},\n'
        '  {"type": "matrix", "id": "m"}\n'
        "]}]}\n"
    )
    assert problems(text) == [
        'test.json:7: questionnaire[0].items[1] (id "b"): '
        'condition "nope": "nope" is not the id of any item',
        'test.json:8: questionnaire[0].items[2] (id "m"): item type "matrix" cannot be imported',
    ]


def test_every_problem_is_reported_at_once():
    found = problems(
        vsaq(
            {"type": "matrix", "id": "m"},
            yesno("a"),
            line("b", "nope"),
            line("c", "a &&"),
            {"type": "yesno", "id": "d"},
        )
    )
    assert len(found) == 4
    assert 'item type "matrix"' in found[0]
    assert '(id "b"): condition "nope": "nope" is not the id of any item' in found[1]
    assert '(id "c"): condition "a &&"' in found[2]
    assert '(id "d"): a question needs a text' in found[3]


def test_a_duplicate_vsaq_id_is_refused_with_both_places():
    (problem,) = problems(vsaq(yesno("a"), radiogroup("g", "a", "b")))
    assert problem.endswith(
        ': questionnaire[0].items[0].items[1].choices[0] (id "a"): '
        'id "a" is already used at questionnaire[0].items[0].items[0] (id "a")'
    )


def test_ids_are_kept_or_made_fit_for_our_format():
    items = [yesno("net_fw"), yesno("Net.Auth"), yesno("Sécurité"), yesno("x" * 120)]
    assert list(questions(convert(vsaq(*items)))) == ["net_fw", "net-auth", "securite", "x" * 90]


def test_long_texts_make_titles_within_our_limit():
    long_block = block("y" * 400, yesno("a"))
    warned = block("B", warning("w", "a", name="z" * 400))
    result = convert(rooted(long_block, warned, text="x" * 400))
    section = result["sections"][0]
    assert len(result["title"]) == len(section["title"]) == 300
    assert section["description"] == "y" * 400
    assert len(findings(result)["w"]["title"]) == 300


def test_ids_that_normalise_alike_are_kept_apart():
    found = questions(convert(vsaq(yesno("App_Auth"), yesno("app_auth"), line("x", "app_auth"))))
    assert list(found) == ["app_auth", "app_auth-2", "x"]
    assert found["x"]["show_if"] == {"question": "app_auth-2", "equals": "yes"}


def test_radio_values_that_collide_are_kept_apart_and_conditions_still_resolve():
    result = convert(vsaq(radiogroup("g", "OPT_A", "opt_a"), line("x", "opt_a")))
    found = questions(result)
    assert [o["value"] for o in found["g"]["options"]] == ["opt_a", "opt_a-2"]
    assert found["x"]["show_if"] == {"question": "g", "equals": "opt_a-2"}


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ("a &&", "ends where a name was expected"),
        ("(a", '"(" at position 1 is never closed'),
        ("a)", 'unexpected ")"'),
        ("a & b", 'a single "&" at position 3'),
        ("a b", 'unexpected "b"'),
        ('matches(a/value, "x")', 'the function "matches" has no equivalent'),
        ("false", 'the constant "false" has no equivalent'),
        ("a || b && a", "add parentheses"),
        ("unknown_id", '"unknown_id" is not the id of any item'),
        ("info_x", '"info_x" names a info, which has no choice to test'),
        ("later", '"later", which comes later in the questionnaire'),
        ("(" * 40 + "a" + ")" * 40, "nested deeper than"),
    ],
)
def test_conditions_that_cannot_be_imported(cond, message):
    items = [
        yesno("a"),
        yesno("b"),
        {"type": "info", "id": "info_x", "text": "x"},
        line("target", cond),
        yesno("later"),
    ]
    (problem,) = problems(vsaq(*items))
    assert f'(id "target"): condition "{cond}"' in problem
    assert message in problem


# ---- conditions --------------------------------------------------------------------------------

A, B, C = ({"question": q, "equals": "yes"} for q in "abc")


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ("a", A),
        ("a/yes", A),
        ("a/no", {"question": "a", "equals": "no"}),
        ("!a", {"not": A}),
        ("!!a", A),
        ("a && b", {"all": [A, B]}),
        ("a || b", {"any": [A, B]}),
        ("a && b || c", {"any": [{"all": [A, B]}, C]}),
        ("a || (b && c)", {"any": [A, {"all": [B, C]}]}),
        ("(a || b) && !c", {"all": [{"any": [A, B]}, {"not": C}]}),
        ("a && (b && c)", {"all": [A, B, C]}),
        ("!(a || (b && !c))", {"not": {"any": [A, {"all": [B, {"not": C}]}]}}),
        ("  ((a))  ", A),
    ],
)
def test_conditions_over_yesno_questions(cond, expected):
    assert show_if(cond, yesno("a"), yesno("b"), yesno("c")) == expected


def test_conditions_on_radios_checks_and_groups():
    group = {
        "type": "checkgroup",
        "id": "ctl",
        "text": "Controls",
        "choices": [{"ctl_cctv": "CCTV"}, {"ctl_alarm": "Alarm"}],
    }
    lone = {"type": "check", "id": "declared", "text": "Declared"}
    earlier = [radiogroup("fw", "fw_yes", "fw_no"), group, lone]
    assert show_if("fw_no", *earlier) == {"question": "fw", "equals": "fw_no"}
    assert show_if("!ctl_cctv", *earlier) == {"not": {"question": "ctl", "equals": "ctl_cctv"}}
    assert show_if("declared", *earlier) == {"question": "declared", "equals": "yes"}
    assert show_if("declared/no", *earlier) == {"not": {"question": "declared", "equals": "yes"}}
    assert show_if("fw", *earlier) == {"question": "fw", "answered": True}


def holds(condition: dict[str, Any], answers: dict[str, str | None]) -> bool:
    """Our condition semantics, as docs/questionnaire-format.md states them."""
    if "all" in condition:
        return all(holds(each, answers) for each in condition["all"])
    if "any" in condition:
        return any(holds(each, answers) for each in condition["any"])
    if "not" in condition:
        return not holds(condition["not"], answers)
    answer = answers.get(condition["question"])
    if "answered" in condition:
        return answer is not None
    return answer == condition["equals"]


NAMES = ("a", "b", "c", "d")
trees = st.recursive(
    st.sampled_from(NAMES),
    lambda inner: (
        st.tuples(st.just("!"), inner)
        | st.tuples(st.sampled_from(["&&", "||"]), st.lists(inner, min_size=2, max_size=3))
        | st.tuples(st.just("()"), inner)
    ),
    max_leaves=10,
)


def render(tree: Any, *, unambiguous: bool) -> str:
    """VSAQ text for the tree, with only the parentheses the grammar needs; `unambiguous` adds
    the ones that make VSAQ's left-to-right reading agree too."""
    if isinstance(tree, str):
        return tree
    operator, operand = tree
    if operator == "()":
        return f"({render(operand, unambiguous=unambiguous)})"
    if operator == "!":
        inner = render(operand, unambiguous=unambiguous)
        return (
            f"!({inner})"
            if isinstance(operand, tuple) and operand[0] in ("&&", "||")
            else f"!{inner}"
        )
    parts = []
    for index, each in enumerate(operand):
        text = render(each, unambiguous=unambiguous)
        inner = each[0] if isinstance(each, tuple) else ""
        needs = operator == "&&" and inner == "||"
        if unambiguous and operator == "||":
            # An `&&` after an `||` is grouped, and so is a nested `||`, whose own first
            # operand would otherwise stand after its parent's `||`.
            needs = (index > 0 and inner == "&&") or inner == "||"
        parts.append(f"({text})" if needs else text)
    return f" {operator} ".join(parts)


def python_value(expression: str, answers: dict[str, str | None]) -> bool:
    python = expression.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    scope = {name: answers[name] == "yes" for name in NAMES}
    return eval(python, {"__builtins__": {}}, scope)  # noqa: S307 - our own generated text


answers_strategy = st.fixed_dictionaries({n: st.sampled_from(["yes", "no", None]) for n in NAMES})
earlier_questions = [yesno(name) for name in NAMES]


@settings(max_examples=200, deadline=None)
@given(tree=trees, answers=answers_strategy)
def test_parsed_conditions_agree_with_python(tree, answers):
    expression = render(tree, unambiguous=True)
    result = convert(vsaq(*earlier_questions, line("target", expression)))
    expected = python_value(expression, answers)
    assert holds(questions(result)["target"]["show_if"], answers) == expected, expression
    # The app reads the condition the same way once it is loaded.
    loaded = from_document(result).questionnaire
    assert loaded is not None
    given = {name: answer for name, answer in answers.items() if answer is not None}
    assert app_holds(loaded.question("target").show_if, given) == expected, expression


def one_level(tree: Any) -> list[Any]:
    """The operands `render` writes side by side: a nested `&&` in `&&` (or `||` in `||`) has
    no parentheses, so its operands join its parent's."""
    operator, operands = tree
    flat: list[Any] = []
    for each in operands:
        same = isinstance(each, tuple) and each[0] == operator
        flat.extend(one_level(each) if same else [each])
    return flat


def read_otherwise_by_vsaq(tree: Any) -> bool:
    """Whether the text `render(tree, unambiguous=False)` has an `&&` after an `||` at one
    level: there VSAQ, which reads left to right, would disagree with the usual precedence."""
    if isinstance(tree, str):
        return False
    operator, operand = tree
    if operator in ("!", "()"):
        return read_otherwise_by_vsaq(operand)
    operands = one_level(tree)
    later = operands[1:]
    if operator == "||" and any(isinstance(each, tuple) and each[0] == "&&" for each in later):
        return True
    return any(read_otherwise_by_vsaq(each) for each in operands)


@settings(max_examples=200, deadline=None)
@given(tree=trees, answers=answers_strategy)
def test_exactly_the_expressions_vsaq_would_read_otherwise_are_refused(tree, answers):
    expression = render(tree, unambiguous=False)
    try:
        condition = show_if(expression, *earlier_questions)
    except VsaqError as error:
        assert read_otherwise_by_vsaq(tree), expression
        assert "add parentheses" in error.problems[0]
    else:
        assert not read_otherwise_by_vsaq(tree), expression
        assert holds(condition, answers) == python_value(expression, answers), expression


# ---- tips, findings and scores -----------------------------------------------------------------


def warning(vsaq_id: str, cond: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "tip",
        "id": vsaq_id,
        "cond": cond,
        "warn": "yes",
        "name": f"Warning {vsaq_id}",
        "text": f"<p>Why {vsaq_id} is a risk</p>",
        **extra,
    }


def test_a_warning_tip_becomes_a_finding_rule():
    result = convert(vsaq(yesno("fw"), warning("warn_fw", "fw/no", severity="high")))
    assert findings(result) == {
        "warn_fw": {
            "id": "warn_fw",
            "when": {"question": "fw", "equals": "no"},
            "severity": "high",
            "title": "Warning warn_fw",
            "why": "<p>Why warn_fw is a risk</p>",
        }
    }
    assert list(questions(result)) == ["fw"]  # no why: nothing for the vendor to fill in


def test_a_finding_rule_includes_the_conditions_of_enclosing_blocks():
    result = convert(vsaq(yesno("a"), yesno("b"), block("", warning("w", "!b"), cond="a")))
    assert findings(result)["w"]["when"] == {"all": [A, {"not": B}]}
    assert findings(result)["w"]["severity"] == "medium"  # the default


def test_the_why_of_a_warning_becomes_an_optional_explanation_question():
    tip = warning("warn_fw", "fw_no", why="Explain your compensating controls:")
    result = convert(vsaq(radiogroup("fw", "fw_yes", "fw_no"), tip))
    assert questions(result)["warn_fw_explanation"] == {
        "id": "warn_fw_explanation",
        "type": "long_text",
        "text": "Explain your compensating controls:",
        "help": "<p>Why warn_fw is a risk</p>",
        "required": False,
        "show_if": {"question": "fw", "equals": "fw_no"},
    }
    assert "warn_fw" in findings(result)


def test_a_warning_without_name_takes_its_title_from_the_text():
    tip = warning("w", "a", text="<b>Plain</b> text " + "word " * 40)
    del tip["name"]
    title = findings(convert(vsaq(yesno("a"), tip)))["w"]["title"]
    assert title.startswith("Plain text word")
    assert title.endswith("…")
    assert len(title) <= 80


def test_a_warning_without_any_condition_is_shown_as_information():
    tip = {"type": "tip", "id": "w", "warn": "yes", "text": "Always shown"}
    result = convert(vsaq(yesno("a"), tip))
    assert findings(result) == {}
    assert questions(result)["w"] == {"id": "w", "type": "info", "text": "Always shown"}


def test_an_unknown_severity_is_a_problem():
    (problem,) = problems(vsaq(yesno("a"), warning("w", "a", severity="urgent")))
    assert 'severity "urgent" is not one of low, medium, high, critical' in problem


def test_a_finding_may_look_ahead_and_goes_to_the_section_of_its_last_question():
    result = convert(rooted(block("One", warning("w", "b")), block("Two", yesno("b"), id="two")))
    assert [s["id"] for s in result["sections"]] == ["two"]  # one held nothing to ask
    assert result["sections"][0]["findings"][0]["when"] == B


def test_an_explanation_question_may_not_look_ahead():
    (problem,) = problems(vsaq(warning("w", "b", why="Explain"), yesno("b")))
    assert 'refers to "b", which comes later' in problem


def test_options_that_raise_a_warning_score_zero_and_the_others_one():
    items = [
        radiogroup("tls", "tls_only", "tls_mixed", "tls_none"),
        warning("w_tls", "tls_mixed || tls_none", severity="critical"),
        yesno("mfa"),
        warning("w_mfa", "!mfa"),
    ]
    found = questions(convert(vsaq(*items)))
    assert {o["value"]: o["score"] for o in found["tls"]["options"]} == {
        "tls_only": 1,
        "tls_mixed": 0,
        "tls_none": 0,
    }
    assert found["tls"]["critical"] is True
    assert "weight" not in found["tls"]
    # "!mfa" is raised by answering no: our default yes = 1, no = 0, so no options are needed.
    assert "options" not in found["mfa"]
    assert "weight" not in found["mfa"]
    assert "critical" not in found["mfa"]


def test_questions_no_warning_names_are_unscored():
    items = [
        radiogroup("where", "where_lb", "where_app"),
        yesno("sso"),
        yesno("x"),
        warning("w", "x && sso"),  # needs both: neither answer alone raises it
    ]
    found = questions(convert(vsaq(*items)))
    for question_id in ("where", "sso"):
        assert found[question_id]["weight"] == 0
        assert {o["score"] for o in found[question_id]["options"]} == {1}


# ---- detection ---------------------------------------------------------------------------------


def test_vsaq_documents_are_recognised_even_when_broken():
    assert looks_like_vsaq(vsaq(yesno("a")))
    assert looks_like_vsaq(vsaq(yesno("a"), header="// Copyright\n"))
    assert looks_like_vsaq(HEADER + '{\n  "questionnaire": [ {"type": "block",, } ]')


@pytest.mark.parametrize(
    "text",
    [
        "format: 1\nid: baseline\ntitle: Baseline\nsections: []\n",
        '{"format": 1, "id": "baseline", "sections": []}',
        "",
        "questionnaire: [a, b]\n",
    ],
)
def test_our_own_files_are_not_taken_for_vsaq(text):
    assert not looks_like_vsaq(text)


# ---- through the loader ------------------------------------------------------------------------

# A questionnaire as VSAQ publishes them: licence header in // comments, texts split with +,
# one root block, nested follow-up blocks, warnings with explanations. Written for these tests.
SECURITY_PROGRAM = """
// Copyright 2024 Example Corp. All rights reserved.
// Licensed under the Apache License, Version 2.0 (the "License").

{
  "questionnaire": [
    {
      "type": "block",
      "text": "Security Program Questionnaire",
      "items": [
        {
          "type": "block",
          "text": "Scope",
          "items": [
            {"type": "info", "text": "Tell us what this project involves."},
            {
              "type": "checkgroup",
              "id": "scope",
              "defaultChoice": false,
              "choices": [{"scope_pii": "<b>Personal data</b> is processed."}]
            }
          ]
        },
        {
          "type": "block",
          "id": "block_program",
          "text": "Security program",
          "items": [
            {
              "type": "radiogroup",
              "id": "program",
              "text": "<p>Do you run a security program?</p>" +
                      "<p>It should cover <i>every</i> team.</p>",
              "choices": [
                {"program_yes": "Yes, covering the whole company."},
                {"program_no": "No."}
              ]
            },
            {
              "type": "tip",
              "id": "warn_no_program",
              "cond": "program_no",
              "warn": "yes",
              "severity": "critical",
              "name": "No security program",
              "text": "Without a program, controls are chosen by chance.",
              "why": "If there is a reason you need none, explain it:"
            },
            {
              "type": "block",
              "id": "block_program_details",
              "text": "Program details",
              "cond": "program_yes",
              "items": [
                {"type": "line", "id": "program_standard", "text": "Which standard?"},
                {"type": "line", "id": "program_since", "text": "Since when?", "inputType": "date"},
                {
                  "type": "checkgroup",
                  "text": "Which of these do you keep?",
                  "defaultChoice": true,
                  "choices": [
                    {"program_policies": "Written policies"},
                    {"program_audits": "Independent audits"}
                  ]
                },
                {
                  "type": "tip",
                  "id": "warn_no_audits",
                  "cond": "!program_audits",
                  "warn": "yes",
                  "severity": "high",
                  "name": "No independent audits",
                  "text": "Audits show that controls work in practice."
                },
                {"type": "tip", "text": "Audit reports help us review you faster."},
                {"type": "upload", "id": "program_report", "text": "Latest audit report"}
              ]
            },
            {"type": "spacer"},
            {
              "type": "yesno",
              "id": "dpo",
              "cond": "scope_pii",
              "text": "Have you appointed a data protection officer?",
              "yes": "Yes",
              "no": "Not yet"
            },
            {"type": "tip", "id": "warn_no_dpo", "cond": "dpo/no", "warn": "yes",
             "name": "No data protection officer", "text": "Someone must own privacy."},
            {"type": "check", "id": "declaration", "text": "These answers are true."},
            {"type": "box", "id": "other", "text": "Anything else?", "required": false}
          ]
        }
      ]
    }
  ]
}
"""


def test_a_converted_questionnaire_loads_cleanly():
    result = from_document(convert(SECURITY_PROGRAM, name="security_program.json"))
    assert result.problems == ()
    questionnaire = result.questionnaire
    assert questionnaire.id == "security-program"
    assert questionnaire.title == "Security Program Questionnaire"
    assert [s.id for s in questionnaire.sections] == ["scope", "block_program"]
    assert [f.id for f in questionnaire.findings] == [
        "warn_no_program",
        "warn_no_audits",
        "warn_no_dpo",
    ]
    types = {q.id: q.type.value for q in questionnaire.questions}
    assert types == {
        "scope": "yes_no",
        "info": "info",
        "program": "single_choice",
        "warn_no_program_explanation": "long_text",
        "block_program_details": "info",
        "program_standard": "short_text",
        "program_since": "date",
        "program-2": "multiple_choice",
        "tip": "info",
        "program_report": "file",
        "dpo": "yes_no",
        "declaration": "yes_no",
        "other": "long_text",
    }


def test_a_converted_questionnaire_behaves_as_it_did_in_vsaq():
    questionnaire = from_document(convert(SECURITY_PROGRAM)).questionnaire
    answers = {"scope": "yes", "program": "program_yes", "program-2": ("program_policies",)}
    shown = {q.id for q in visible_questions(questionnaire, answers)}
    assert {"program_standard", "program_report", "dpo"} <= shown
    assert "warn_no_program_explanation" not in shown
    assert [f.id for f in triggered_findings(questionnaire, answers)] == ["warn_no_audits"]
    assert {q.id for q in missing_required(questionnaire, answers)} == {"dpo", "declaration"}

    answers = {"scope": "no", "program": "program_no", "declaration": "yes"}
    shown = {q.id for q in visible_questions(questionnaire, answers)}
    assert "warn_no_program_explanation" in shown
    assert not shown & {"program_standard", "program-2", "dpo"}
    assert [f.id for f in triggered_findings(questionnaire, answers)] == ["warn_no_program"]
    program = questionnaire.question("program")
    assert (program.critical, program.option("program_no").score) == (True, 0)


def test_scripts_and_javascript_links_in_vsaq_texts_are_removed_when_loaded():
    hostile = (
        '<p>Read <a href="javascript:alert(1)">this</a> and '
        '<a href="https://example.com/policy">that</a>.</p><script>alert(2)</script>'
        '<img src="x" onerror="alert(3)">'
    )
    items = [
        yesno("mfa", text=hostile, yes=hostile),
        radiogroup("g", "g_a", "g_b", text=hostile),
        warning("w", "mfa/no", text=hostile, why=hostile),
        {"type": "info", "id": "i", "text": hostile},
    ]
    loaded = from_document(convert(vsaq(*items))).questionnaire
    document = json.dumps(loaded.to_document())
    for removed in ("javascript:", "<script", "alert(2)", "onerror", "<img"):
        assert removed not in document
    assert '<a href="https://example.com/policy"' in loaded.question("i").text


# ---- the visibility operator ^ -----------------------------------------------------------------

VISIBILITY = Path(__file__).parent / "assets" / "vsaq_visibility.json"


def vsaq_visible(document: dict[str, Any], answers: dict[str, str | None]) -> dict[str, bool]:
    """Which items VSAQ shows, by its rules, written out independently of the import: an item
    is visible when its condition holds and the block around it is visible; `^id` is "id is
    visible"; a yesno id is "answered yes" (the fixture reads only questions always shown)."""
    parent: dict[str, str | None] = {}
    items: dict[str, dict[str, Any]] = {}

    def walk(item: dict[str, Any], around: str | None) -> None:
        key = item.get("id") or f"#{len(items)}"
        items[key], parent[key] = item, around
        for choice in item.get("choices", []):
            (choice_id,) = choice
            items[choice_id], parent[choice_id] = {}, key  # visible with its group
        for child in item.get("items", []):
            walk(child, key)

    for top in document["questionnaire"]:
        walk(top, None)

    def value(name: str) -> bool:
        if name.startswith("^"):
            return visible(name[1:])
        base, _, suffix = name.partition("/")
        return answers.get(base) == (suffix or "yes")

    def visible(key: str) -> bool:
        cond = items[key].get("cond")
        if cond:
            python = re.sub(r"[\^\w/]+", lambda m: f"value({m.group(0)!r})", cond)
            python = python.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
            if not eval(python, {"value": value}):  # noqa: S307 - the fixture's own text
                return False
        return parent[key] is None or visible(parent[key])

    return {key: visible(key) for key in items if not key.startswith("#")}


def fixture_document() -> dict[str, Any]:
    text = VISIBILITY.read_text(encoding="utf-8")
    return json.loads(text[text.index("*/") + 2 :])


ANSWERS = [
    dict(zip("abc", values, strict=True))
    for values in itertools.product(("yes", "no", None), repeat=3)
]


@pytest.mark.parametrize("answers", ANSWERS, ids=lambda answers: str(answers))
def test_visibility_is_what_vsaq_shows_for_every_answer(answers):
    questionnaire = from_document(convert(VISIBILITY.read_text(encoding="utf-8"))).questionnaire
    expected = vsaq_visible(fixture_document(), answers)
    shown = {q.id for q in visible_questions(questionnaire, answers)}
    fired = {f.id for f in triggered_findings(questionnaire, answers)}
    ours = {q.id for q in questionnaire.questions} | {f.id for f in questionnaire.findings}
    compared = sorted(set(expected) & ours)
    assert len(compared) == 19  # every item of the fixture that is a question or a finding
    assert {key: key in shown | fired for key in compared} == {k: expected[k] for k in compared}


def test_visibility_expands_into_our_conditions():
    found = questions(convert(VISIBILITY.read_text(encoding="utf-8")))
    a, b, c = ({"question": q, "equals": "yes"} for q in "abc")
    # Within the section "targets", whose own condition (none) every item shares.
    assert found["sees_on_a"]["show_if"] == a  # ^ on a question: its condition
    assert found["sees_blk"]["show_if"] == b  # ^ on a block
    assert found["sees_inner"]["show_if"] == {"all": [b, c]}  # with the block around it
    assert found["not_inner"]["show_if"] == {"not": {"all": [b, c]}}
    assert found["nested"]["show_if"] == {"all": [a, c]}  # ^ of a ^, flattened
    assert found["mixed"]["show_if"] == {
        "all": [{"any": [{"all": [b, c]}, {"question": "a", "equals": "no"}]}, {"not": b}]
    }
    assert found["by_choice"]["show_if"] == {"question": "c", "equals": "no"}  # its group's
    assert "show_if" not in found["sees_always"]  # ^ of an item always shown is true
    # From another section: the blocks around the target are part of its visibility, the
    # section around the reader is its own show_if already.
    assert found["across"]["show_if"] == {"all": [c, b]}
    assert findings(convert(VISIBILITY.read_text(encoding="utf-8")))["warn_a_only"]["when"] == {
        "all": [a, {"not": {"all": [a, b]}}]
    }


def test_a_hidden_target_inside_a_hidden_block_stays_the_known_difference():
    # VSAQ: !^x holds while x is hidden. Here too, as long as x's condition reads questions
    # that are shown (above: "c"); when it reads a question inside the hidden block, the
    # reader is hidden with it, as for any condition reading a hidden question.
    doc = vsaq(
        yesno("b"),
        block("Inner", yesno("q"), line("x", "q"), id="inner_blk", cond="b"),
        line("reader", "!^x"),
    )
    questionnaire = from_document(convert(doc)).questionnaire
    assert questionnaire.question("reader").show_if.to_document() == {
        "not": {"all": [{"question": "b", "equals": "yes"}, {"question": "q", "equals": "yes"}]}
    }
    shown = {q.id for q in visible_questions(questionnaire, {"b": "no"})}
    assert "reader" not in shown  # VSAQ would show it


@pytest.mark.parametrize(
    ("items", "where", "message"),
    [
        ([line("x", "^x")], "x", '"x" reads ^x, which leads back to "x"'),
        (
            [line("x", "^y"), line("y", "a && ^x")],
            "x",
            '"x" reads ^y, then ^x, which leads back to "x"',
        ),
        (
            [block("Around", line("inside", "a"), id="around", cond="^inside")],
            "around",
            '"around" reads ^inside, which leads back to "around"',
        ),
        (
            [line("x", "^y"), line("y", "^z"), line("z", "a || ^y")],
            "y",
            '"y" reads ^z, then ^y, which leads back to "y"',
        ),
    ],
    ids=["itself", "through another", "through its block", "a loop further on"],
)
def test_a_visibility_that_depends_on_itself_is_refused_by_name(items, where, message):
    (problem,) = problems(vsaq(yesno("a"), *items))
    assert f'(id "{where}"): condition' in problem
    assert message in problem


def test_an_item_whose_visibility_reads_its_own_answer_is_refused():
    (problem,) = problems(vsaq(yesno("q", cond="^w"), warning("w", "q")))
    assert '(id "q")' in problem
    assert 'through "^w", its visibility depends on its own answer' in problem


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        ("^nowhere", '"nowhere" is not the id of any item'),
        ("^", "the visibility operator ^ takes an item id alone"),
        ("^a/yes", "the visibility operator ^ takes an item id alone"),
        ("!^a", "never holds once ^ is expanded"),
        ("^later", 'refers to "^later", whose condition reads "b"'),
    ],
)
def test_visibility_conditions_that_cannot_be_imported(cond, message):
    items = [yesno("a"), line("target", cond), yesno("b"), line("later", "b")]
    (problem,) = problems(vsaq(*items))
    assert f'(id "target"): condition "{cond}"' in problem
    assert message in problem


def test_a_target_that_cannot_be_imported_is_named():
    items = [{"type": "matrix", "id": "m"}, line("target", "^m")]
    found = problems(vsaq(yesno("a"), *items))
    assert any('"m" names an item that cannot be imported' in p for p in found)


def test_long_chains_of_visibility_stay_bounded():
    # Each link reads the one before twice: written out, the last would hold 2^60 tests.
    chain = [yesno("a"), line("v0", "a")]
    chain += [line(f"v{n}", f"^v{n - 1} || !^v{n - 1}") for n in range(1, 61)]
    started = time.perf_counter()
    found = problems(vsaq(*chain))
    assert time.perf_counter() - started < 5
    assert any(f"more than {MAX_CONDITION_TESTS} tests once ^ is expanded" in p for p in found)
    assert len(found) == 1  # where it grows too large, not again at every later link

    # A chain whose every link nests the one before deeper: refused at a clear depth.
    deep = [yesno("a"), line("d0", "a")]
    deep += [line(f"d{n}", f"!(^d{n - 1} || a)") for n in range(1, 100)]
    found = problems(vsaq(*deep))
    assert len(found) == 1
    assert "nested deeper than 32 levels once ^ is expanded" in found[0]

    # A chain that looks ahead, each link needing the next: bounded before Python's stack is.
    ahead = [yesno("a")] + [line(f"f{n}", f"^f{n + 1}") for n in range(2000)]
    ahead.append(line("f2000", "a"))
    started = time.perf_counter()
    found = problems(vsaq(*ahead))
    assert time.perf_counter() - started < 5
    assert 0 < len(found) <= 20  # once every hundred links at most
    assert all(
        "^ leads through more than 100 conditions, each needing the next" in p for p in found
    )


def test_the_bounds_of_expansion_leave_plain_conditions_alone():
    cond = " || ".join(["a/no", "a"] * 150)  # 300 tests, no ^
    assert len(show_if(cond, yesno("a"))["any"]) == 300


def test_a_chain_within_the_limits_imports():
    chain = [yesno("a"), yesno("b"), line("v0", "a")]
    chain += [line(f"v{n}", f"^v{n - 1} && b") for n in range(1, 50)]
    found = questions(convert(vsaq(*chain)))
    assert found["v49"]["show_if"] == {
        "all": [{"question": "a", "equals": "yes"}] + [{"question": "b", "equals": "yes"}] * 49
    }

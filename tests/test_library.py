"""The questionnaire library (/questionnaires): the list, a questionnaire's versions, a version's
preview, importing a file, editing in the app (a new version, never a change), YAML download."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest
import sqlalchemy as sa
from conftest import add, count, events, login_as, text

from vendor_risk.core import documents
from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db
from vendor_risk.models import (
    Questionnaire,
    QuestionnaireRequest,
    QuestionnaireVersion,
    RequestStatus,
    Role,
)
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import library as questionnaires

SMALL = """\
format: 1
id: small
title: Small review
version: 1
audience: vendor
sections:
  - id: access
    title: Access
    questions:
      - id: mfa
        type: yes_no
        text: Do you use MFA?
        weight: 3
        critical: true
        evidence: requested
        controls: {nist_csf: [PR.AA-03], iso27001: [A.8.5]}
      - id: mfa-kind
        type: single_choice
        text: Which kind of <b>second factor</b>?
        show_if: {question: mfa, equals: "yes"}
        options:
          - {value: totp, label: An authenticator app, score: 0.5}
          - {value: fido, label: A security key, score: 1}
    findings:
      - id: no-mfa
        when: {question: mfa, equals: "no"}
        severity: high
        title: Staff sign in without MFA
        why: A stolen password is enough.
"""


def line_of(text_: str, needle: str) -> int:
    return next(i for i, line in enumerate(text_.splitlines(), start=1) if needle in line)


@pytest.fixture
def staff(client, make_user):
    user = make_user(Role.procurement)
    login_as(client, user)
    return user


def store(app, source: str = SMALL) -> tuple[int, int]:
    """Store a questionnaire's content; returns (questionnaire id, version number)."""
    with app.app_context():
        parsed = loader.parse(source, "small.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="small.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        return stored.version.questionnaire_id, stored.version.number


def version_row(app, questionnaire_id: int, number: int) -> QuestionnaireVersion:
    with app.app_context():
        row = db.session.scalar(
            sa.select(QuestionnaireVersion).where(
                QuestionnaireVersion.questionnaire_id == questionnaire_id,
                QuestionnaireVersion.number == number,
            )
        )
        db.session.expunge(row)
        return row


def upload(client, path: str, content: bytes, filename: str):
    return client.post(
        path,
        data={"file": (BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def textarea(response) -> str:
    """The text of the page's textarea, as the browser shows it to the person editing."""
    match = re.search(
        r"<textarea[^>]*>\r?\n?(.*?)</textarea>", response.get_data(as_text=True), re.S
    )
    assert match, "no textarea on the page"
    return html.unescape(match.group(1))


# ---- the list and a questionnaire's versions -------------------------------------------------


def test_the_list_shows_each_questionnaire_with_its_latest_version(app, client, staff):
    with app.app_context():
        questionnaires.sync_shipped(db.session, actor=Actor.system("test"))
        db.session.commit()
    store(app)
    store(app, SMALL.replace("Do you use MFA?", "Do all staff use MFA?"))

    page = client.get("/questionnaires/")

    assert page.status_code == 200
    body = text(page)
    for title in ("Baseline security", "Small review", "Credentials you hold for us"):
        assert title in body
    row = re.search(r"Small review.*?</tr>", body, re.S).group(0)
    assert "small" in row and "2" in row and "of 2" in row
    assert re.search(r'class="num">2</td>', row)  # two questions
    assert "Questionnaires" in body  # in the navigation


def test_a_questionnaire_lists_its_versions_with_the_requests_using_each(
    app, client, staff, make_vendor
):
    qid, _ = store(app)
    store(app, SMALL.replace("Do you use MFA?", "Do all staff use MFA?"))
    vendor = make_vendor()
    v1 = version_row(app, qid, 1)
    add(
        app,
        *[
            QuestionnaireRequest(vendor_id=vendor, version_id=v1.id, status=RequestStatus.sent)
            for _ in range(3)
        ],
    )

    page = client.get(f"/questionnaires/{qid}")

    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td class=\"num\"><a[^>]*>(\d+)</a>.*?</tr>", text(page), re.S)
    assert rows == ["2", "1"]  # newest first
    body = text(page)
    version_1 = re.search(r'versions/1">1</a>.*?</tr>', body, re.S).group(0)
    assert v1.content_hash[:12] in version_1
    assert "small.yaml" in version_1 and "command line" in version_1
    assert version_1.rstrip("</tr>").rstrip().endswith('<td class="num">3</td>')


def statements_for(app, client, path: str) -> int:
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200
    return len(seen)


def test_the_list_pages_make_no_query_per_row(app, client, staff, make_vendor):
    qid, _ = store(app)
    few_versions = statements_for(app, client, f"/questionnaires/{qid}")
    few_questionnaires = statements_for(app, client, "/questionnaires/")
    vendor = make_vendor()
    for n in range(2, 6):
        store(app, SMALL.replace("Do you use MFA?", f"Do you use MFA ({n})?"))
        version = version_row(app, qid, n)
        add(app, QuestionnaireRequest(vendor_id=vendor, version_id=version.id))
        store(app, SMALL.replace("id: small", f"id: small-{n}"))
    assert statements_for(app, client, f"/questionnaires/{qid}") == few_versions
    assert statements_for(app, client, "/questionnaires/") == few_questionnaires


# ---- a version's preview -------------------------------------------------------------------


def test_the_preview_shows_questions_as_staff_see_them(app, client, staff):
    qid, number = store(app)

    page = client.get(f"/questionnaires/{qid}/versions/{number}")

    assert page.status_code == 200
    body = text(page)
    assert "Which kind of <b>second factor</b>?" in body  # the safe markup, rendered
    assert "weight 3" in body and "critical" in body and "evidence requested" in body
    assert "<strong>Shown only if</strong> mfa is “Yes”." in body
    assert re.search(r"An authenticator app</td><td><code>totp</code></td><td[^>]*>0.5", body)
    assert "NIST CSF 2.0 PR.AA-03" in body and "ISO/IEC 27001:2022 A.8.5" in body
    finding = re.search(r"Staff sign in without MFA.*?</tr>", body, re.S).group(0)
    assert (
        "high" in finding and "mfa is “No”" in finding and "A stolen password is enough." in finding
    )
    assert "A newer version" not in body


def test_an_older_version_says_a_newer_one_exists_and_unknown_ones_are_404(app, client, staff):
    qid, _ = store(app)
    store(app, SMALL.replace("Do you use MFA?", "Do all staff use MFA?"))
    assert "A newer version" in text(client.get(f"/questionnaires/{qid}/versions/1"))
    assert client.get(f"/questionnaires/{qid}/versions/3").status_code == 404
    assert client.get(f"/questionnaires/{qid + 1}/versions/1").status_code == 404
    assert client.get(f"/questionnaires/{qid}/versions/3/edit").status_code == 404


def test_download_yaml_is_an_attachment_that_loads_back_to_the_same_content(app, client, staff):
    qid, number = store(app)

    response = client.get(f"/questionnaires/{qid}/versions/{number}/yaml")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == ("attachment; filename=small-version-1.yaml")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    loaded = loader.parse(response.get_data(as_text=True), "download.yaml").questionnaire
    assert loaded.content_hash() == version_row(app, qid, number).content_hash


@pytest.mark.parametrize("name", ["baseline-security", "intake", "vendor-credentials"])
def test_the_yaml_of_each_shipped_questionnaire_is_readable_and_the_same_content(name):
    original = loader.load(f"{questionnaires.SHIPPED_DIR}/{name}.yaml").questionnaire
    text_ = documents.dump(questionnaires.readable_document(original))
    assert loader.parse(text_, "again.yaml").questionnaire.content_hash() == (
        original.content_hash()
    )
    # Defaults are left out: a person reads what the author chose, not every field.
    assert "evidence: none" not in text_ and "required: true" not in text_
    assert "help: ''" not in text_ and "findings: []" not in text_


# ---- importing a file ----------------------------------------------------------------------


def test_importing_a_file_stores_a_version_and_again_changes_nothing(app, client, staff):
    first = upload(client, "/questionnaires/import", SMALL.encode(), "small.yaml")

    assert first.status_code == 302
    qid = get_id(app, "small")
    assert first.headers["Location"] == f"/questionnaires/{qid}/versions/1"
    assert "Stored as version 1 of “Small review”." in text(client.get(first.headers["Location"]))

    again = upload(client, "/questionnaires/import", SMALL.encode(), "copy.yaml")
    assert again.headers["Location"] == f"/questionnaires/{qid}/versions/1"
    assert "Nothing changed" in text(client.get(again.headers["Location"]))
    assert count(app, QuestionnaireVersion) == 1
    (created,) = events(app, "questionnaire.version_created")
    assert created.actor_id == staff.id


def get_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Questionnaire.id).where(Questionnaire.key == key))


def test_importing_a_vsaq_file_converts_it(app, client, staff):
    vsaq = (
        "/* Copyright 2024 Example Corp. */\n"
        '{"questionnaire": [{"type": "block", "text": "Hosting review", "items": ['
        '{"type": "block", "text": "Access", "items": ['
        '{"type": "yesno", "id": "mfa", "text": "Do staff use <i>MFA</i>?"}]}]}]}'
    )
    response = upload(client, "/questionnaires/import", vsaq.encode(), "hosting.json")

    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Hosting review" in page and "vsaq:hosting.json" in page
    assert "Do staff use <i>MFA</i>?" in page


def test_an_import_with_problems_lists_them_with_lines_and_stores_nothing(app, client, staff):
    broken = SMALL.replace("type: yes_no", "type: yes/no").replace("score: 0.5", "score: 5")

    response = upload(client, "/questionnaires/import", broken.encode(), "small.yaml")

    assert response.status_code == 400
    body = text(response)
    assert "Nothing was stored: 2 problems" in body
    assert re.search(
        rf'<td class="num">{line_of(broken, "yes/no")}</td><td><code>sections\[0\]'
        r"\.questions\[0\]\.type</code></td><td>expected one of",
        body,
    )
    assert f'<td class="num">{line_of(broken, "score: 5")}</td>' in body
    assert count(app, Questionnaire) == 0

    binary = upload(client, "/questionnaires/import", b"\x89PNG\r\n\x1a\n\xff\x00", "x.yaml")
    assert binary.status_code == 400 and "not UTF-8 text" in text(binary)
    empty = client.post("/questionnaires/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choose a file." in text(empty)
    assert count(app, QuestionnaireVersion) == 0


# ---- editing in the app --------------------------------------------------------------------


def test_an_edit_is_stored_as_a_new_version_and_the_old_one_stays(app, client, staff):
    qid, _ = store(app)
    before = version_row(app, qid, 1)
    page = client.get(f"/questionnaires/{qid}/versions/1/edit")
    assert page.status_code == 200
    yaml_text = textarea(page)
    assert yaml_text.startswith("format: 1\nid: small\n")
    assert "Do you use MFA?" in yaml_text

    edited = yaml_text.replace("Do you use MFA?", "Do all of your staff use MFA?")
    response = client.post(f"/questionnaires/{qid}/versions/1/edit", data={"text": edited})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/questionnaires/{qid}/versions/2"
    assert "Saved as version 2 (edited from version 1)." in text(
        client.get(response.headers["Location"])
    )
    new = version_row(app, qid, 2)
    assert new.source == "edited in the app" and new.created_by_id == staff.id
    assert questionnaires.questionnaire_of(new).question("mfa").text == (
        "Do all of your staff use MFA?"
    )
    old = version_row(app, qid, 1)
    assert (old.content_hash, old.definition) == (before.content_hash, before.definition)
    created = events(app, "questionnaire.version_created")
    assert created[-1].details["source"] == "edited in the app"
    assert created[-1].actor_id == staff.id


def test_an_unchanged_text_says_nothing_changed(app, client, staff):
    qid, _ = store(app)
    yaml_text = textarea(client.get(f"/questionnaires/{qid}/versions/1/edit"))

    response = client.post(f"/questionnaires/{qid}/versions/1/edit", data={"text": yaml_text})

    assert response.status_code == 200
    assert "Nothing changed: this text is the content of version 1." in text(response)
    assert count(app, QuestionnaireVersion) == 1


def test_a_broken_edit_lists_problems_with_lines_keeps_the_text_and_stores_nothing(
    app, client, staff
):
    qid, _ = store(app)
    yaml_text = textarea(client.get(f"/questionnaires/{qid}/versions/1/edit"))
    broken = yaml_text.replace("type: yes_no", "type: yesno").replace(
        "equals: 'yes'", "equals: 'maybe'"
    )
    broken += "  - id: access\n    title: Again\n"

    response = client.post(f"/questionnaires/{qid}/versions/1/edit", data={"text": broken})

    assert response.status_code == 400
    body = text(response)
    assert "Nothing was stored" in body
    assert f'<td class="num">{line_of(broken, "type: yesno")}</td>' in body
    assert textarea(response) == broken  # the person's text is kept, to fix it
    assert count(app, QuestionnaireVersion) == 1

    not_yaml = "format: 1\nid: small\n  title: [unclosed\n"
    response = client.post(f"/questionnaires/{qid}/versions/1/edit", data={"text": not_yaml})
    assert response.status_code == 400
    assert re.search(
        r'<td class="num">\d+</td><td><code></code></td><td>not valid YAML', text(response)
    )
    assert count(app, QuestionnaireVersion) == 1


def test_an_edit_cannot_change_the_questionnaire_id(app, client, staff):
    qid, _ = store(app)
    yaml_text = textarea(client.get(f"/questionnaires/{qid}/versions/1/edit"))
    renamed = yaml_text.replace("id: small\n", "id: another\n", 1)

    response = client.post(f"/questionnaires/{qid}/versions/1/edit", data={"text": renamed})

    assert response.status_code == 400
    body = text(response)
    assert "the id must stay 'small' (it is 'another')" in body
    assert f'<td class="num">{line_of(renamed, "id: another")}</td>' in body
    assert count(app, Questionnaire) == 1 and count(app, QuestionnaireVersion) == 1


def test_an_empty_text_is_refused(app, client, staff):
    qid, _ = store(app)
    response = client.post(f"/questionnaires/{qid}/versions/1/edit", data={"text": "  "})
    assert response.status_code == 400
    assert "The text is empty" in text(response)
    assert count(app, QuestionnaireVersion) == 1

"""A request as an XLSX workbook: downloaded, filled with openpyxl as a vendor would in Excel,
uploaded back all or nothing, row-level problems, vendor isolation, and no weight or score in a
file vendors get."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from conftest import add, events, get, login_as, text

from vendor_risk.core.questionnaire import loader
from vendor_risk.core.questionnaire.xlsx import (
    INSTRUCTIONS,
    LISTS,
    MAX_UNPACKED_BYTES,
    build_workbook,
    read_workbook,
    sheet_names,
)
from vendor_risk.db import db
from vendor_risk.models import Answer, QuestionnaireRequest, RequestStatus, Role
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import library as questionnaires

# Scores and weights chosen so that they cannot be mistaken for anything else in the workbook.
REVIEW = """\
format: 1
id: hosting-review
title: Hosting review
version: 1
audience: vendor
sections:
  - id: access
    title: "Access: who [signs] in?"
    questions:
      - id: mfa
        type: yes_no
        text: Do all staff sign in with <b>MFA</b>?
        help: Including contractors.
        weight: 13
        critical: true
        options:
          - {value: "yes", score: 0.93}
          - {value: "no", score: 0.07}
      - id: mfa-kind
        type: single_choice
        text: Which second factor?
        show_if: {question: mfa, equals: "yes"}
        options:
          - {value: totp, label: An authenticator app, score: 0.37}
          - {value: fido, label: A security key, score: 0.97}
      - id: contact-ways
        type: multiple_choice
        text: How can we reach your security team?
        weight: 0
        options:
          - {value: email, label: Email}
          - {value: phone, label: "Phone, landline"}
          - {value: sms, label: SMS}
      - id: soc-report
        type: yes_no_na
        text: Do you have a SOC 2 report?
    findings:
      - id: no-mfa
        when: {question: mfa, equals: "no"}
        severity: high
        title: Staff sign in without MFA
  - id: operations
    title: Operations
    questions:
      - id: about
        type: info
        text: The next questions are about your operations.
      - id: staff-count
        type: number
        text: How many engineers can reach production?
        min: 0
        max: 10000
      - id: last-pentest
        type: date
        text: When was your last penetration test?
      - id: security-owner
        type: short_text
        text: Who owns security?
      - id: incident-story
        type: long_text
        text: Tell us about your last incident.
        required: false
      - id: policy
        type: file
        text: Attach your security policy.
"""


@pytest.fixture
def world(app, make_vendor, make_user):
    """Vendors A and B, a contact of each, a procurement user, and a sent request for each
    vendor of the hosting review."""
    with app.app_context():
        parsed = loader.parse(REVIEW, "review.yaml").questionnaire
        stored = questionnaires.store_version(
            db.session, parsed, source="review.yaml", actor=Actor.system("test")
        )
        db.session.commit()
        version_id = stored.version.id
    vendor_a, vendor_b = make_vendor("Vendor A"), make_vendor("Vendor B")
    request_a, request_b = add(
        app,
        QuestionnaireRequest(vendor_id=vendor_a, version_id=version_id, status=RequestStatus.sent),
        QuestionnaireRequest(vendor_id=vendor_b, version_id=version_id, status=RequestStatus.sent),
    )
    return {
        "questionnaire": parsed,
        "version_id": version_id,
        "vendor_a": vendor_a,
        "request_a": request_a,
        "request_b": request_b,
        "contact_a": make_user(Role.vendor_contact, vendor_id=vendor_a),
        "contact_b": make_user(Role.vendor_contact, vendor_id=vendor_b),
        "procurement": make_user(Role.procurement),
    }


def download(client, path: str) -> openpyxl.Workbook:
    response = client.get(path)
    assert response.status_code == 200, text(response)
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"].startswith("attachment; filename=vendor-a-")
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def row_of(book: openpyxl.Workbook, question_id: str):
    """(sheet, row number) of a question, found by its id in the first column."""
    for sheet in book.worksheets:
        for cells in sheet.iter_rows(min_col=1, max_col=1):
            if cells[0].value == question_id:
                return sheet, cells[0].row
    raise AssertionError(f"no row for {question_id}")


def fill(book: openpyxl.Workbook, question_id: str, answer, comment: str | None = None) -> None:
    sheet, row = row_of(book, question_id)
    sheet.cell(row=row, column=4).value = answer
    if comment is not None:
        sheet.cell(row=row, column=5).value = comment


def dropdown(book: openpyxl.Workbook, question_id: str) -> list[str]:
    """The labels the answer cell's dropdown offers, read from the cells its list names."""
    sheet, row = row_of(book, question_id)
    for validation in sheet.data_validations.dataValidation:
        if f"D{row}" in validation.sqref:
            assert validation.type == "list"
            target, cells = validation.formula1.split("!")
            lists = book[target.strip("'")]
            return [c[0].value for c in lists[cells.replace("$", "")]]
    raise AssertionError(f"no dropdown on D{row}")


def as_bytes(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, path: str, data: bytes, filename: str = "answers.xlsx"):
    return client.post(
        path, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def stored_answers(app, request_id: int) -> dict[str, tuple]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Answer).where(Answer.request_id == request_id))
        return {a.question_id: (a.value, a.comment) for a in rows}


def filled_as_a_vendor(book: openpyxl.Workbook) -> openpyxl.Workbook:
    """Answers as a vendor types them in Excel: labels from the dropdowns, a date cell, a
    number cell, comments."""
    yes = dropdown(book, "mfa")[0]
    security_key = dropdown(book, "mfa-kind")[1]
    fill(book, "mfa", yes, "Enforced by our identity provider.")
    fill(book, "mfa-kind", security_key)
    fill(book, "contact-ways", "email, Phone, landline")  # any case; a label with a comma
    fill(book, "soc-report", "Not applicable", "We are too small for one.")
    fill(book, "staff-count", 12)
    fill(book, "last-pentest", datetime(2026, 3, 31))  # what Excel makes of 2026-03-31
    fill(book, "security-owner", "Jo Smith, CISO")
    fill(book, "incident-story", "None in five years.\nA phishing attempt in 2024 was stopped.")
    return book


EXPECTED = {
    "mfa": ("yes", "Enforced by our identity provider."),
    "mfa-kind": ("fido", ""),
    "contact-ways": (["email", "phone"], ""),
    "soc-report": ("na", "We are too small for one."),
    "staff-count": (12, ""),
    "last-pentest": ("2026-03-31", ""),
    "security-owner": ("Jo Smith, CISO", ""),
    "incident-story": ("None in five years.\nA phishing attempt in 2024 was stopped.", ""),
}


# ---- the round trip ------------------------------------------------------------------------


def test_a_vendor_downloads_fills_and_uploads_the_workbook(app, client, world):
    login_as(client, world["contact_a"])
    path = f"/portal/requests/{world['request_a']}/workbook"
    page = client.get(path)
    assert page.status_code == 200
    assert "Download the workbook" in text(page)

    book = download(client, f"{path}.xlsx")
    assert book.sheetnames[0] == INSTRUCTIONS
    assert book.sheetnames[1:] == ["Access who signs in", "Operations", LISTS]
    assert dropdown(book, "mfa") == ["Yes", "No"]
    assert dropdown(book, "mfa-kind") == ["An authenticator app", "A security key"]
    sheet, row = row_of(book, "mfa-kind")
    # The note names the question by its text, as the vendor reads it, not by its id.
    assert (
        "Answer only if “Do all staff sign in with MFA?” is “Yes”."
        in sheet.cell(row=row, column=7).value
    )
    assert sheet.cell(row=row, column=2).value == "Which second factor?"
    assert sheet.cell(row=row_of(book, "mfa")[1], column=2).value == (
        "Do all staff sign in with MFA?"  # plain text: no markup in a spreadsheet
    )
    (exported,) = events(app, "request.exported")
    assert exported.actor_id == world["contact_a"].id
    assert exported.vendor_id == world["vendor_a"]

    response = upload(client, path, as_bytes(filled_as_a_vendor(book)))

    assert response.status_code == 302, text(response)
    assert "Workbook imported: 8 answers changed" in text(client.get(response.headers["Location"]))
    assert stored_answers(app, world["request_a"]) == EXPECTED
    (imported,) = events(app, "request.imported")
    assert imported.details["changed"] == 8
    assert get(app, QuestionnaireRequest, world["request_a"]).status is RequestStatus.in_progress

    # Downloaded again, the workbook shows the answers as they were typed, and uploading it
    # unchanged changes nothing.
    again = download(client, f"{path}.xlsx")
    sheet, row = row_of(again, "contact-ways")
    assert sheet.cell(row=row, column=4).value == "Email, Phone, landline"
    sheet, row = row_of(again, "last-pentest")
    assert sheet.cell(row=row, column=4).value == datetime(2026, 3, 31)
    sheet, row = row_of(again, "staff-count")
    assert sheet.cell(row=row, column=4).value == 12
    unchanged = upload(client, path, as_bytes(again))
    assert unchanged.status_code == 302
    assert "0 answers changed" in text(client.get(unchanged.headers["Location"]))
    assert stored_answers(app, world["request_a"]) == EXPECTED


def test_option_values_and_iso_text_are_accepted_too(world):
    questionnaire = world["questionnaire"]
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(questionnaire, {}, title="T")))
    fill(book, "mfa", " YES ")
    fill(book, "contact-ways", "sms\nemail")
    fill(book, "last-pentest", "2026-01-15")
    fill(book, "staff-count", "7.5")

    answers, problems = read_workbook(questionnaire, as_bytes(book))

    assert problems == ()
    assert answers["mfa"] == ("yes", "")
    assert answers["contact-ways"] == (("email", "sms"), "")
    assert answers["last-pentest"] == ("2026-01-15", "")
    assert answers["staff-count"] == (7.5, "")


def test_a_workbook_with_bad_rows_reports_every_row_and_saves_nothing(app, client, world):
    login_as(client, world["contact_a"])
    path = f"/portal/requests/{world['request_a']}/workbook"
    book = filled_as_a_vendor(download(client, f"{path}.xlsx"))
    fill(book, "mfa-kind", "A hardware token")  # not an option
    fill(book, "last-pentest", "31/03/2026")  # not a date it reads
    fill(book, "staff-count", "twelve")  # text in a number
    sheet, security_owner = row_of(book, "security-owner")
    sheet.cell(row=security_owner, column=1).value = "security-boss"  # a changed question id
    fill(book, "incident-story", '=HYPERLINK("http://evil.example")')  # a formula
    access, mfa_kind = row_of(book, "mfa-kind")
    operations, pentest = row_of(book, "last-pentest")
    _, staff_count = row_of(book, "staff-count")
    _, incident = row_of(book, "incident-story")

    response = upload(client, path, as_bytes(book))

    assert response.status_code == 400
    body = text(response)
    assert "Nothing was saved: 5 problems" in body
    rows = re.findall(
        r"<tr><td>([^<]*)</td><td class=\"num\">(\d+)</td><td>(?:<code>([^<]*)</code>)?</td>"
        r"<td>([^<]*)</td></tr>",
        body,
    )
    assert [(sheet_, int(row), qid) for sheet_, row, qid, _ in rows] == [
        (access.title, mfa_kind, "mfa-kind"),
        (operations.title, staff_count, "staff-count"),
        (operations.title, pentest, "last-pentest"),
        (operations.title, security_owner, "security-boss"),
        (operations.title, incident, "incident-story"),
    ]
    messages = [message for *_, message in rows]
    assert "“A hardware token” is not one of the answers offered" in messages[0]
    assert messages[1].startswith("Write a number")
    assert messages[2].startswith("Write a date like 2024-03-31")
    assert "no question has this id" in messages[3]
    assert "formula" in messages[4]
    assert stored_answers(app, world["request_a"]) == {}
    assert events(app, "request.imported") == []
    assert get(app, QuestionnaireRequest, world["request_a"]).status is RequestStatus.sent


def test_unknown_sheets_damaged_and_oversized_files_are_problems_not_crashes(world):
    questionnaire = world["questionnaire"]
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(questionnaire, {}, title="T")))
    book.create_sheet("My notes")
    fill(book, "about", "An answer to a text")
    _, problems = read_workbook(questionnaire, as_bytes(book))
    assert [(p.sheet, p.question_id) for p in problems] == [
        ("Operations", "about"),
        ("My notes", None),
    ]

    assert "not an Excel workbook" in read_workbook(questionnaire, b"hello")[1][0].message
    truncated = as_bytes(book)[:2000]
    assert read_workbook(questionnaire, truncated)[1][0].sheet is None

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<x/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (MAX_UNPACKED_BYTES + 1))
    assert len(bomb.getvalue()) < 1024 * 1024
    (problem,) = read_workbook(questionnaire, bomb.getvalue())[1]
    assert "unpacks to more than 50 MB" in problem.message

    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    assert ".xls" in read_workbook(questionnaire, old_excel)[1][0].message


def with_entity(data: bytes, marker: str, entity: str) -> bytes:
    """The workbook with ``marker`` replaced by a reference to an XML entity declared in the
    part that holds it (an XXE or entity-expansion attack)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if marker.encode() in content:
                doctype = b"<!DOCTYPE x [" + entity.encode() + b"]>"
                declaration, _, rest = content.rpartition(b"?>")  # declaration may be absent
                content = (declaration + b"?>" if declaration else b"") + doctype + rest
                content = content.replace(marker.encode(), b"&e;")
            archive.writestr(item, content)
    return target.getvalue()


@pytest.mark.parametrize(
    "entity",
    [
        '<!ENTITY e SYSTEM "file:///etc/passwd">',
        '<!ENTITY a "aaaaaaaaaa"><!ENTITY e "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">',
    ],
    ids=["external entity", "entity expansion"],
)
def test_xml_entities_in_a_workbook_are_refused(world, entity):
    questionnaire = world["questionnaire"]
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(questionnaire, {}, title="T")))
    fill(book, "about", "MARKER-FOR-ENTITY")
    hostile = with_entity(as_bytes(book), "MARKER-FOR-ENTITY", entity)

    content, problems = read_workbook(questionnaire, hostile)

    assert [p.message for p in problems] == [
        "the file is damaged or not an Excel workbook (.xlsx): download the workbook again "
        "and type the answers in it"
    ]
    assert "root:" not in repr(content) and "aaaaaaaaaa" not in repr(content)


def test_an_answer_changed_since_the_download_is_a_conflict(app, client, world):
    login_as(client, world["contact_a"])
    path = f"/portal/requests/{world['request_a']}/workbook"
    assert upload(client, path, as_bytes(filled_as_a_vendor(download(client, f"{path}.xlsx"))))
    old = download(client, f"{path}.xlsx")
    # A colleague changes an answer in the portal after this download.
    with app.app_context():
        answer = db.session.get(Answer, (world["request_a"], "security-owner"))
        answer.value, answer.version = "Sam Lee", answer.version + 1
        db.session.commit()
    fill(old, "security-owner", "Jo Smith, head of security")

    response = upload(client, path, as_bytes(old))

    assert response.status_code == 400
    assert "changed after the workbook was downloaded (it is now “Sam Lee”)" in text(response)
    assert stored_answers(app, world["request_a"])["security-owner"] == ("Sam Lee", "")


# ---- who may, and when ---------------------------------------------------------------------


def test_another_vendors_contact_gets_404_for_every_workbook_route(app, client, world):
    login_as(client, world["contact_b"])
    path = f"/portal/requests/{world['request_a']}/workbook"
    book = filled_as_a_vendor(
        openpyxl.load_workbook(io.BytesIO(build_workbook(world["questionnaire"], {}, title="T")))
    )

    assert client.get(path).status_code == 404
    assert client.get(f"{path}.xlsx").status_code == 404
    assert upload(client, path, as_bytes(book)).status_code == 404
    assert stored_answers(app, world["request_a"]) == {}
    assert events(app, "request.exported") == []
    # Their own vendor's request is theirs.
    assert client.get(f"/portal/requests/{world['request_b']}/workbook").status_code == 200


def test_a_draft_request_is_not_in_the_portal(app, client, world):
    (draft,) = add(
        app,
        QuestionnaireRequest(
            vendor_id=world["vendor_a"], version_id=world["version_id"], status="draft"
        ),
    )
    login_as(client, world["contact_a"])
    assert client.get(f"/portal/requests/{draft}/workbook.xlsx").status_code == 404


def test_staff_download_and_upload_a_workbook_a_vendor_emailed(app, client, world):
    login_as(client, world["procurement"])
    path = f"/requests/{world['request_a']}/workbook"
    assert "it shows no weight, score or internal note" in text(client.get(path))
    book = filled_as_a_vendor(download(client, f"{path}.xlsx"))

    response = upload(client, path, as_bytes(book))

    assert response.status_code == 302, text(response)
    assert response.headers["Location"] == path
    assert stored_answers(app, world["request_a"]) == EXPECTED
    (imported,) = events(app, "request.imported")
    assert imported.actor_id == world["procurement"].id
    assert client.get("/requests/999/workbook").status_code == 404


def test_a_submitted_request_refuses_an_upload_and_saves_nothing(app, client, world):
    with app.app_context():
        request = db.session.get(QuestionnaireRequest, world["request_a"])
        request.status = RequestStatus.submitted
        db.session.commit()
    login_as(client, world["contact_a"])
    path = f"/portal/requests/{world['request_a']}/workbook"
    page = text(client.get(path))
    assert "was submitted" in page and "Upload and save" not in page
    book = filled_as_a_vendor(download(client, f"{path}.xlsx"))

    response = upload(client, path, as_bytes(book))

    assert response.status_code == 400
    assert "was submitted" in text(response) and "read-only" in text(response)
    assert stored_answers(app, world["request_a"]) == {}


def test_an_upload_without_a_file_is_refused(client, world):
    login_as(client, world["contact_a"])
    path = f"/portal/requests/{world['request_a']}/workbook"
    response = client.post(path, data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose the workbook file." in text(response)


# ---- what vendors must never see -------------------------------------------------------------


def test_the_workbook_holds_no_weight_score_or_internal_rule(app, client, world):
    with app.app_context():
        db.session.add(
            Answer(
                request_id=world["request_a"],
                question_id="mfa",
                value="no",
                internal_note="Reviewer: they lied about MFA last year",
                clarification="",
            )
        )
        db.session.commit()
    login_as(client, world["contact_a"])
    data = client.get(f"/portal/requests/{world['request_a']}/workbook.xlsx").get_data()
    book = openpyxl.load_workbook(io.BytesIO(data))

    cells = [
        str(cell.value)
        for sheet in book.worksheets  # the hidden list sheet too
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    everything = "\n".join(cells).lower()
    for secret in ("weight", "score", "critical", "0.93", "0.07", "0.37", "0.97", "13"):
        assert secret not in everything, secret
    assert "staff sign in without mfa" not in everything  # a finding rule
    assert "lied" not in everything  # an internal note
    # Nor in any other part of the file (properties, shared strings, validations).
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        raw = b"".join(archive.read(name) for name in archive.namelist()).lower()
    for secret in (b"0.93", b"0.37", b"0.97", b"weight", b"lied"):
        assert secret not in raw, secret


def test_sheet_names_are_valid_for_excel_and_unique():
    long_titles = "\n".join(
        f'  - id: s{i}\n    title: "{title}"\n    questions:\n'
        f"      - {{id: q{i}, type: short_text, text: Q}}"
        for i, title in enumerate(
            [
                "Instructions",
                "A very long section title that Excel would refuse",
                "A very long section title that Excel would refuse too",
                "'Quoted' / with * odd ? chars: [here]",
                "lists",
            ]
        )
    )
    source = (
        "format: 1\nid: names\ntitle: Names\nversion: 1\naudience: vendor\nsections:\n"
        + long_titles
        + "\n"
    )
    questionnaire = loader.parse(source, "names.yaml").questionnaire
    names = list(sheet_names(questionnaire).values())
    assert len({n.casefold() for n in names} | {"instructions", "lists"}) == len(names) + 2
    for name in names:
        assert 0 < len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
        assert not name.startswith("'") and not name.endswith("'")
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(questionnaire, {}, title="T")))
    assert book.sheetnames[1:] == names  # no choice question: no hidden list sheet
    answers, problems = read_workbook(questionnaire, as_bytes(book))
    assert problems == () and set(answers) == {f"q{i}" for i in range(5)}


def test_dates_and_texts_are_written_as_values_never_formulas(world):
    questionnaire = world["questionnaire"]
    answers = {
        "security-owner": ("=cmd|' /C calc'!A0", "+danger"),
        "last-pentest": ("2025-12-01", ""),
    }
    data = build_workbook(questionnaire, answers, title="T")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet, row = row_of(book, "security-owner")
    assert sheet.cell(row=row, column=4).data_type == "s"
    sheet, row = row_of(book, "last-pentest")
    assert sheet.cell(row=row, column=4).value == datetime(2025, 12, 1)
    read, problems = read_workbook(questionnaire, data)
    assert problems == ()
    assert read["security-owner"] == ("=cmd|' /C calc'!A0", "+danger")
    assert read["last-pentest"] == (date(2025, 12, 1).isoformat(), "")

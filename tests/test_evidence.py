"""Evidence files (vendor_risk/services/evidence.py and the portal's file routes): the type read
from the content and matched against the name, the size limit (also above the app's request
limit), names that try to leave the folder, storage under random names with a SHA-256,
downloads only by the vendor's contacts and staff, as attachments, and removal."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from conftest import count, events, login_as
from openpyxl import Workbook
from test_answers import (
    INTAKE,
    World,
    make_request,
    request_row,
    save,
    set_status,
    store,
    stored,
)
from test_answers import world as world
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from vendor_risk.db import db
from vendor_risk.models import Evidence, QuestionnaireRequest, RequestStatus, Role
from vendor_risk.services import ValidationFailed, uploads
from vendor_risk.services.questionnaires import evidence as svc
from vendor_risk.services.questionnaires.answers import AnswerRefused
from vendor_risk.services.questionnaires.evidence import EvidenceRefused
from vendor_risk.services.uploads import display_name

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
CSV = "name,mfa\nÅsa,yes\n".encode()
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_SHEET = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def office(main: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office Open XML package whose main part is ``main``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/word/document.xml" ContentType="{main}"/>'
            "</Types>",
        )
        archive.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx() -> bytes:
    book = Workbook()
    book.active["A1"] = "MFA coverage"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def label(value) -> str | None:
    """Test ids without the files' bytes: a zip archive holds the time it was written, so ids
    made from it differ between pytest-xdist workers, which then refuse to run."""
    return "file" if isinstance(value, bytes) else None


def upload_file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def upload(world: World, user, question_id: str, data: bytes, name: str, request=None):
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, request or world.request_a)
        try:
            evidence = svc.store_upload(
                db.session, req, question_id, upload_file(data, name), actor=world.actor(user)
            )
        except ValidationFailed:
            db.session.rollback()
            raise
        db.session.commit()
        return evidence.id


def post_files(client, url: str, fields: dict, *, json: bool = False):
    """A multipart POST built in memory (the test client would spool a large body to a
    temporary file that it never closes when the app refuses the body unread)."""
    boundary, body = encode_multipart(fields)
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Accept": "application/json"} if json else {},
    )


def files_on_disk(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def evidence_row(app, evidence_id: int) -> Evidence:
    with app.app_context():
        row = db.session.get(Evidence, evidence_id)
        db.session.expunge(row)
        return row


# ---- what is accepted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "SOC 2 report.pdf", "application/pdf"),
        (PNG, "screenshot.PNG", "image/png"),
        (JPEG, "photo.jpeg", "image/jpeg"),
        (b"Policy v2\r\nReviewed yearly.\n", "policy.txt", "text/plain"),
        (CSV, "staff.csv", "text/csv"),
        (office(WORD_MAIN), "policy.docx", uploads.DOCX.content_type),
        (xlsx(), "coverage.xlsx", uploads.XLSX.content_type),
    ],
    ids=label,
)
def test_files_of_the_allowed_types_are_stored_under_random_names(world, data, name, content_type):
    evidence_id = upload(world, world.contact_a, "mfa", data, name)

    row = evidence_row(world.app, evidence_id)
    assert (row.filename, row.content_type, row.size) == (name, content_type, len(data))
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    (path,) = files_on_disk(world.app)
    assert path.name == row.stored_name and len(row.stored_name) == 64
    assert path.read_bytes() == data
    assert (os.stat(path).st_mode & 0o777) == 0o600
    assert not str(path).startswith(str(Path(world.app.static_folder)))
    (event,) = events(world.app, "evidence.uploaded")
    assert event.details["filename"] == name and event.vendor_id == world.vendor_a


# ---- what is refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (PNG, "report.pdf", "report.pdf is not a PDF file"),
        (b"<html><script>alert(1)</script></html>", "report.pdf", "is not a PDF file"),
        (b"MZ\x90\x00\x03" + b"\x00" * 64, "tool.pdf", "is not a PDF file"),
        (PDF, "report.png", "is not a PNG image file"),
        (b"plain\x00text", "notes.txt", "is not a text file"),
        (b"\xff\xfe\x00caf\xe9", "notes.csv", "is not a CSV file"),
        (office(MACRO_SHEET), "macros.xlsx", "is not a Excel workbook (XLSX) file"),
        (office(WORD_MAIN), "policy.xlsx", "is not a Excel workbook (XLSX) file"),
        (b"PK\x03\x04 not really a zip", "policy.docx", "is not a Word document (DOCX) file"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "logo.svg", "not accepted"),
        (PDF, "report.html", "files of this type are not accepted"),
        (PDF, "report", "files of this type are not accepted"),
        (PDF, "../../etc/passwd", "passwd: files of this type are not accepted"),
        (b"", "empty.pdf", "empty.pdf is empty"),
        (PDF, "", "Choose a file to upload."),
        (PDF, "../..", "Choose a file to upload."),
    ],
    ids=label,
)
def test_files_whose_content_is_not_what_they_claim_are_refused(world, data, name, message):
    with pytest.raises(EvidenceRefused) as refused:
        upload(world, world.contact_a, "mfa", data, name)
    assert message in refused.value.errors["mfa"][0]
    assert count(world.app, Evidence) == 0
    assert files_on_disk(world.app) == []


def test_an_office_file_whose_archive_expands_too_far_is_refused(world):
    # A zip bomb: a small archive that claims gigabytes once expanded.
    bomb = office(WORD_MAIN, {"word/media/huge.bin": b"\x00" * (uploads.ZIP_MAX_UNCOMPRESSED + 1)})
    assert len(bomb) < 2 * 1024 * 1024

    with pytest.raises(EvidenceRefused):
        upload(world, world.contact_a, "mfa", bomb, "policy.docx")
    assert files_on_disk(world.app) == []


def test_a_file_over_the_limit_is_refused_with_the_limit(make_app, make_vendor, make_user):
    app = make_app(EVIDENCE_MAX_BYTES=2 * 1024 * 1024)
    vendor = make_vendor("Vendor A")
    contact = make_user(Role.vendor_contact, vendor_id=vendor)
    w = World(app, vendor, 0, contact, None, None, 0, 0, 0)
    w.request_a = make_request(app, vendor, store(app))

    with pytest.raises(EvidenceRefused) as refused:
        upload(w, contact, "mfa", PDF + b"0" * (2 * 1024 * 1024), "big.pdf")

    assert "big.pdf: Files are limited to 2 MB each" in refused.value.errors["mfa"][0]
    assert files_on_disk(app) == []
    upload(w, contact, "mfa", PDF + b"0" * (2 * 1024 * 1024 - len(PDF)), "just-fits.pdf")


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../evil.pdf", "evil.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("/etc/cron.d/evil.pdf", "evil.pdf"),
        ("C:\\Users\\ana\\Rapport d'audit — 2024.pdf", "Rapport d'audit — 2024.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("line\nbreak\u202e.pdf", "linebreak.pdf"),
    ],
)
def test_names_are_cut_to_their_last_part_and_never_reach_the_disk(world, tmp_path, sent, shown):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, sent)

    row = evidence_row(world.app, evidence_id)
    assert row.filename == shown
    (path,) = files_on_disk(world.app)
    assert path.name == row.stored_name  # the uploaded name is never a path on disk
    assert not (tmp_path / "evil.pdf").exists() and not Path("/etc/cron.d/evil.pdf").exists()


def test_display_names_keep_their_extension_within_255_characters():
    long = "a" * 300 + ".pdf"
    assert display_name(long).endswith(".pdf") and len(display_name(long)) == 255
    assert display_name(None) == ""


def test_files_are_refused_for_questions_that_ask_none_or_are_not_asked(world):
    with pytest.raises(EvidenceRefused) as refused:
        upload(world, world.contact_a, "staff", PDF, "staff.pdf")
    assert "asks for no file" in refused.value.errors["staff"][0]
    set_status(world.app, world.request_a, RequestStatus.submitted)
    with pytest.raises(AnswerRefused) as refused:
        upload(world, world.contact_a, "mfa", PDF, "late.pdf")
    assert "read-only" in refused.value.errors["mfa"][0]


# ---- the answer of a file question ---------------------------------------------------------


def test_the_files_of_a_file_question_are_its_answer(world):
    first = upload(world, world.contact_a, "audit-report", PDF, "2024.pdf")
    second = upload(world, world.colleague_a, "audit-report", PNG, "page.png")

    assert stored(world)["audit-report"][:3] == ([str(first), str(second)], "", 2)
    assert request_row(world).answered_count == 1
    assert request_row(world).status is RequestStatus.in_progress

    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        svc.delete_evidence(
            db.session, req, db.session.get(Evidence, first), actor=world.actor(world.contact_a)
        )
        db.session.commit()
    assert stored(world)["audit-report"][0] == [str(second)]
    assert len(files_on_disk(world.app)) == 1
    assert len(events(world.app, "evidence.deleted")) == 1


def test_a_deletion_rolled_back_keeps_the_file(world):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "keep.pdf")
    with world.app.app_context():
        req = db.session.get(QuestionnaireRequest, world.request_a)
        svc.delete_evidence(
            db.session,
            req,
            db.session.get(Evidence, evidence_id),
            actor=world.actor(world.contact_a),
        )
        db.session.rollback()
    assert count(world.app, Evidence) == 1
    assert len(files_on_disk(world.app)) == 1


# ---- downloads, through the pages ----------------------------------------------------------


def test_a_file_is_downloaded_by_its_vendors_contacts_as_an_attachment(world, client):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "Rapport d'audit — 2024.pdf")
    url = f"/portal/requests/{world.request_a}/files/{evidence_id}"

    login_as(client, world.colleague_a)
    with client.get(url) as response:
        body = response.data

    assert response.status_code == 200
    assert body == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Rapport%20d%27audit%20%E2%80%94%202024.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    [downloaded] = events(world.app, "evidence.downloaded")
    assert downloaded.actor_id == world.colleague_a.id
    assert downloaded.object_id == str(evidence_id)


def test_another_vendors_contact_cannot_download_or_delete_a_file(world, client):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "a-only.pdf")
    login_as(client, world.contact_b)

    for url in (
        f"/portal/requests/{world.request_a}/files/{evidence_id}",
        # B's own request with A's file id: the file is looked up within the request.
        f"/portal/requests/{world.request_b}/files/{evidence_id}",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url + "/delete").status_code == 404
    assert count(world.app, Evidence) == 1


def test_staff_download_a_vendors_file_from_the_review(world, client, make_user):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "for-review.pdf")
    set_status(world.app, world.request_a, RequestStatus.submitted)
    login_as(client, make_user(Role.risk_officer))

    with client.get(f"/review/evidence/{evidence_id}") as response:
        body = response.data

    assert response.status_code == 200 and body == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_staff_upload_and_download_files_of_an_intake(world, client, make_user):
    intake_version = store(
        world.app, INTAKE.replace("inherent: criticality", "evidence: requested")
    )
    intake = make_request(world.app, world.vendor_a, intake_version)
    officer = make_user(Role.procurement)
    login_as(client, officer)

    response = client.post(
        f"/intake/{intake}/answers/criticality/files",
        data={"file": (io.BytesIO(PDF), "contract.pdf")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_json()
    (listed,) = response.get_json()["files"]
    with client.get(listed["download_url"]) as download:
        assert download.data == PDF
    # The vendor's contact cannot reach an internal questionnaire's files.
    login_as(client, world.contact_a)
    assert client.get(f"/portal/requests/{intake}/files/{listed['id']}").status_code == 404


def test_a_missing_file_on_disk_is_a_404_not_an_error(world, client):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "gone.pdf")
    for path in files_on_disk(world.app):
        path.unlink()
    login_as(client, world.contact_a)
    assert client.get(f"/portal/requests/{world.request_a}/files/{evidence_id}").status_code == 404


# ---- uploads through the pages -------------------------------------------------------------


def test_the_upload_route_answers_the_script_in_json(world, client):
    login_as(client, world.contact_a)
    url = f"/portal/requests/{world.request_a}/answers/mfa/files"

    good = client.post(
        url,
        data={"file": [(io.BytesIO(PDF), "one.pdf"), (io.BytesIO(PNG), "two.png")]},
        headers={"Accept": "application/json"},
    )
    bad = client.post(
        url,
        data={"file": (io.BytesIO(PNG), "three.pdf")},
        headers={"Accept": "application/json"},
    )

    assert good.status_code == 200
    assert [f["filename"] for f in good.get_json()["files"]] == ["one.pdf", "two.png"]
    assert bad.status_code == 422
    assert "three.pdf is not a PDF file" in bad.get_json()["message"]
    assert count(world.app, Evidence) == 2


def test_a_body_above_the_request_limit_is_refused_with_the_evidence_limit(
    make_app, make_vendor, make_user
):
    """Flask's own limit (413) for the upload routes says the evidence limit, in JSON for the
    script and on a page otherwise; nothing is saved."""
    app = make_app(EVIDENCE_MAX_BYTES=1024 * 1024, MAX_CONTENT_LENGTH=512 * 1024)
    vendor = make_vendor("Vendor A")
    contact = make_user(Role.vendor_contact, vendor_id=vendor)
    request_id = make_request(app, vendor, store(app))
    client = app.test_client()
    login_as(client, contact)
    url = f"/portal/requests/{request_id}/answers/mfa/files"
    huge = PDF + b"0" * (2 * 1024 * 1024)

    as_script = post_files(client, url, {"file": upload_file(huge, "huge.pdf")}, json=True)
    as_page = post_files(client, url, {"file": upload_file(huge, "huge.pdf")})
    # Above the app's 512 KB but within the evidence limit: accepted on this route.
    fits = post_files(
        client, url, {"file": upload_file(PDF + b"0" * (800 * 1024), "fits.pdf")}, json=True
    )

    assert as_script.status_code == 413
    assert "Files are limited to 1 MB each" in as_script.get_json()["message"]
    assert as_page.status_code == 413
    assert "Files are limited to 1 MB each" in as_page.get_data(as_text=True)
    assert fits.status_code == 200
    assert count(app, Evidence) == 1
    assert len(files_on_disk(app)) == 1


def test_a_section_saved_with_a_bad_answer_keeps_no_uploaded_file(world, client):
    login_as(client, world.contact_a)
    response = client.post(
        f"/portal/requests/{world.request_a}/sections/access",
        data={
            "shown-mfa": "1",
            "a-mfa": "key",
            "v-mfa": "0",
            "f-mfa": (io.BytesIO(PDF), "proof.pdf"),
            "shown-sso": "1",
            "a-sso": "perhaps",
            "v-sso": "0",
        },
    )
    assert response.status_code == 400
    assert "choose your files again" in response.get_data(as_text=True)
    assert count(world.app, Evidence) == 0
    assert files_on_disk(world.app) == []
    assert stored(world) == {}


def test_a_file_removed_with_its_button_without_javascript(world, client):
    evidence_id = upload(world, world.contact_a, "mfa", PDF, "old.pdf")
    login_as(client, world.contact_a)

    response = client.post(
        f"/portal/requests/{world.request_a}/sections/access",
        data={"remove_file": str(evidence_id), "shown-sso": "1", "a-sso": "yes", "v-sso": "0"},
    )

    assert response.status_code == 302
    assert count(world.app, Evidence) == 0
    assert files_on_disk(world.app) == []
    assert stored(world)["sso"][0] == "yes"  # the section's answers saved with it
    save(world, world.contact_a, "sso", "yes", base=1)  # unchanged

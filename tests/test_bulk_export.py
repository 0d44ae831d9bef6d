"""Bulk exports of assessment PDFs (issue 16 item 2), with real parts: the vendor list's button,
a real huey consumer running the `exports.build` job in threads of this process (as
tests/test_jobs.py runs one), the real WeasyPrint, the zip opened with zipfile and each PDF read
back with pypdf. Only the owner sees and downloads an export; it expires after 24 hours and the
hourly job deletes it with its file; too many vendors, none, or filters the list refuses are
said clearly and save nothing. Runs on SQLite, and on PostgreSQL with VR_TEST_BACKEND."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import count, events, get, login_as, text
from conftest import running_worker as shared_running_worker
from conftest import wait_for as shared_wait_for
from pypdf import PdfReader

from vendor_risk.db import db, request_job, utcnow
from vendor_risk.jobs import BY_NAME, queue_of
from vendor_risk.models import BulkExport, BulkExportStatus, Criticality, Role

FAST = {"JOB_RETRIES": 0, "JOB_RETRY_DELAY_SECONDS": 0}


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(**FAST, QUEUE_URL=f"sqlite:///{tmp_path / 'queue.sqlite'}")


def running_worker(app, *, periodic: bool = False):
    return shared_running_worker(app, workers=1, periodic=periodic)


def wait_for(condition, timeout: float = 90.0, what: str = "the worker"):
    return shared_wait_for(condition, timeout, what, every=0.2)


@pytest.fixture
def vendors(make_vendor) -> dict[str, int]:
    return {
        "Keystone Identity": make_vendor("Keystone Identity", criticality=Criticality.critical),
        # Same slug as the first once its accents and punctuation go: the zip still tells
        # them apart.
        "Kéystone <Identity>": make_vendor("Kéystone <Identity>", criticality=Criticality.critical),
        "Lowly Catering": make_vendor("Lowly Catering", criticality=Criticality.low),
    }


def ask(client, **filters) -> int:
    """Press the vendor list's button with these filters; the export's id."""
    asked = client.post("/reports/exports", data=filters)
    assert asked.status_code == 302, text(asked)
    found = re.fullmatch(r"/reports/exports/(\d+)", asked.headers["Location"])
    assert found, asked.headers["Location"]
    return int(found[1])


def refused(client, **filters) -> str:
    """Press the button with filters that are refused: back to the list, which says why."""
    asked = client.post("/reports/exports", data=filters)
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith("/inventory/vendors")
    return text(client.get(asked.headers["Location"]))


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def downloaded(client, export_id: int):
    """The download, its file closed (send_file streams it from the exports folder)."""
    response = client.get(f"/reports/exports/{export_id}/download")
    response.get_data()
    response.close()
    return response


def build(app, client, **filters) -> int:
    export_id = ask(client, **filters)
    with running_worker(app):
        wait_for(lambda: "ready" in text(client.get(f"/reports/exports/{export_id}")))
    return export_id


# ---- the export, from the list's button to the zip ------------------------------------------


def test_the_filtered_vendors_assessments_are_zipped_by_the_worker_with_progress_shown(
    app, client, make_user, vendors
):
    officer = make_user(Role.risk_officer)
    login_as(client, officer)
    listed = client.get("/inventory/vendors?criticality=critical")
    page = text(listed)
    assert "Export assessments (zip)" in page
    assert 'name="criticality" value="critical"' in page

    export_id = ask(client, criticality="critical")
    waiting = client.get(f"/reports/exports/{export_id}")
    assert waiting.status_code == 200
    assert "0 of 2 assessments" in text(waiting)
    assert '<meta http-equiv="refresh"' in text(waiting)  # reloads itself, no script
    assert "Criticality: Critical" in text(waiting)
    assert queue_of(app).pending_count() == 1

    with running_worker(app):
        wait_for(lambda: "ready" in text(client.get(f"/reports/exports/{export_id}")))
    done = text(client.get(f"/reports/exports/{export_id}"))
    assert "ready: 2 assessments" in done
    assert "Download" in done and '<meta http-equiv="refresh"' not in done

    download = downloaded(client, export_id)
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        names = archive.namelist()
        texts = {name: pdf_text(archive.read(name)) for name in names}
    assert len(names) == 2 and len(set(names)) == 2
    for name in names:
        assert re.fullmatch(r"[a-z0-9-]+\.pdf", name), name
    keystone = f"keystone-identity-{vendors['Keystone Identity']}-assessment.pdf"
    assert "Keystone Identity" in texts[keystone]
    assert any("Kéystone <Identity>" in t for t in texts.values())
    assert not any("Lowly Catering" in t for t in texts.values())

    [requested] = events(app, "report.bulk_export.requested")
    assert requested.actor_id == officer.id and requested.details["vendors"] == 2
    [fetched] = events(app, "report.bulk_export.downloaded")
    assert fetched.actor_id == officer.id and fetched.object_id == str(export_id)
    mine = text(client.get("/reports/exports"))
    assert "ready: 2 assessments" in mine


def test_a_vendor_deleted_before_the_job_is_left_out_and_said(app, client, make_user, vendors):
    login_as(client, make_user(Role.procurement))
    export_id = ask(client, criticality="critical")
    with app.app_context():
        db.session.execute(
            sa.text("DELETE FROM vendor WHERE id = :id"), {"id": vendors["Keystone Identity"]}
        )
        db.session.commit()
    with running_worker(app):
        wait_for(lambda: "ready" in text(client.get(f"/reports/exports/{export_id}")))
    page = text(client.get(f"/reports/exports/{export_id}"))
    assert "ready: 1 assessment (1 vendor deleted since it was asked, left out)" in page
    zipped = downloaded(client, export_id).data
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert len(archive.namelist()) == 1


def test_an_export_that_cannot_be_written_fails_with_its_reason_and_no_file(
    make_app, tmp_path, client, make_user, vendors
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the exports folder should be")
    app = make_app(**FAST, BULK_EXPORT_DIR=str(blocked / "exports"))
    client = app.test_client()
    login_as(client, make_user(Role.procurement))
    export_id = ask(client, q="Lowly")
    with running_worker(app):
        wait_for(lambda: "failed" in text(client.get(f"/reports/exports/{export_id}")))
    page = text(client.get(f"/reports/exports/{export_id}"))
    assert "failed: the exports folder could not be written" in page
    assert str(tmp_path) not in page  # no path of the server shown
    assert '<meta http-equiv="refresh"' not in page
    assert downloaded(client, export_id).status_code == 404


# ---- who may see it ---------------------------------------------------------------------------


def test_only_the_owner_sees_and_downloads_an_export(app, client, make_user, vendors):
    owner = make_user(Role.procurement)
    login_as(client, owner)
    export_id = build(app, client, q="Lowly")

    for other in (make_user(Role.procurement), make_user(Role.risk_officer)):
        other_client = app.test_client()
        login_as(other_client, other)
        assert other_client.get(f"/reports/exports/{export_id}").status_code == 404
        assert other_client.get(f"/reports/exports/{export_id}/download").status_code == 404
        assert "You have no export" in text(other_client.get("/reports/exports"))
    assert events(app, "report.bulk_export.downloaded") == []

    vendor_id = vendors["Lowly Catering"]
    contact = make_user(Role.vendor_contact, email="ann@lowly.example", vendor_id=vendor_id)
    contact_client = app.test_client()
    login_as(contact_client, contact)
    assert contact_client.get(f"/reports/exports/{export_id}").status_code == 403
    assert contact_client.get(f"/reports/exports/{export_id}/download").status_code == 403
    assert contact_client.post("/reports/exports", data={}).status_code == 403
    assert count(app, BulkExport) == 1


# ---- expiry -----------------------------------------------------------------------------------


def test_an_expired_export_is_refused_then_deleted_with_its_file_by_the_hourly_job(
    app, client, make_user, vendors
):
    login_as(client, make_user(Role.procurement))
    export_id = build(app, client, q="Lowly")
    with app.app_context():
        export = db.session.get(BulkExport, export_id)
        path = Path(app.config["BULK_EXPORT_DIR"]) / export.stored_name
        assert path.is_file()
        assert Path(app.instance_path) in path.parents  # the instance folder, not static/
        export.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    page = client.get(f"/reports/exports/{export_id}")
    assert page.status_code == 404 and "This export expired" in text(page)
    download = client.get(f"/reports/exports/{export_id}/download")
    assert download.status_code == 404 and "This export expired" in text(download)

    queue_of(app).execute(BY_NAME["exports.expire"], (), None)
    assert not path.exists()
    assert count(app, BulkExport) == 0
    assert client.get(f"/reports/exports/{export_id}").status_code == 404
    assert events(app, "report.bulk_export.downloaded") == []


def test_an_export_whose_worker_died_is_queued_again_and_built_by_the_hourly_job(
    app, client, make_user, vendors
):
    """A worker killed while building leaves the export running with no progress: after ten
    minutes without a PDF added, the hourly job queues it again and a worker builds it whole."""
    login_as(client, make_user(Role.procurement))
    export_id = ask(client, q="Lowly")
    with app.app_context():  # as a killed worker leaves it: claimed, one PDF done, then silence
        export = db.session.get(BulkExport, export_id)
        export.status = BulkExportStatus.running
        export.done = 1
        export.created_at = export.progressed_at = utcnow() - timedelta(minutes=11)
        db.session.commit()
    assert "1 of 1 assessments" in text(client.get(f"/reports/exports/{export_id}"))

    with running_worker(app):
        queue_of(app).execute(BY_NAME["exports.expire"], (), None)
        wait_for(lambda: "ready" in text(client.get(f"/reports/exports/{export_id}")))
    archive = zipfile.ZipFile(io.BytesIO(downloaded(client, export_id).data))
    [name] = archive.namelist()
    assert "Lowly Catering" in pdf_text(archive.read(name))


def test_a_running_export_with_recent_progress_is_left_alone(app, client, make_user, vendors):
    login_as(client, make_user(Role.procurement))
    export_id = ask(client, q="Lowly")
    with app.app_context():
        export = db.session.get(BulkExport, export_id)
        export.status = BulkExportStatus.running
        export.created_at = utcnow() - timedelta(minutes=30)
        export.progressed_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    queue_of(app).execute(BY_NAME["exports.expire"], (), None)
    assert get(app, BulkExport, export_id).status is BulkExportStatus.running


# ---- refusals: nothing saved, a clear message -------------------------------------------------


def test_more_vendors_than_the_cap_is_refused_with_the_numbers(make_app, tmp_path, make_user):
    app = make_app(BULK_EXPORT_MAX_VENDORS=2, QUEUE_URL=f"sqlite:///{tmp_path / 'q.sqlite'}")
    with app.app_context():
        from vendor_risk.models import Vendor

        db.session.add_all(Vendor(name=f"Vendor {n}") for n in range(3))
        db.session.commit()
    client = app.test_client()
    login_as(client, make_user(Role.procurement))
    page = refused(client)
    assert "3 vendors match these filters; one export holds at most 2 assessments" in page
    assert count(app, BulkExport) == 0
    assert events(app, "report.bulk_export.requested") == []
    assert queue_of(app).pending_count() == 0


def test_an_empty_selection_and_filters_the_list_refuses_are_said(app, client, make_user, vendors):
    login_as(client, make_user(Role.risk_officer))
    page = refused(client, q="nobody by this name")
    assert "No vendor matches these filters: there is nothing to export." in page
    assert "These filters cannot be exported" in refused(client, status="bogus")
    assert count(app, BulkExport) == 0
    assert queue_of(app).pending_count() == 0


@pytest.mark.parametrize(
    "filters",
    [
        {"q": "%_\\" * 50},
        {"q": "x" * 5000},
        {"q": "nul\x00byte"},
        {"status": "\r"},
        {"residual": " "},
        {"rating": "provisional", "tier": "<script>"},
        {"criticality": ["low", "critical"]},
    ],
)
def test_hostile_filters_are_refused_or_matched_never_a_server_error(
    app, client, make_user, vendors, filters
):
    login_as(client, make_user(Role.procurement))
    asked = client.post("/reports/exports", data=filters)
    # 400: refused before any view (a NUL byte in a form); 302: asked, or back to the list.
    assert asked.status_code in (302, 400), text(asked)
    if asked.status_code == 302:
        landed = client.get(asked.headers["Location"])
        assert landed.status_code < 500
        assert "<script>" not in landed.get_data(as_text=True)


# ---- db.request_job with ids -------------------------------------------------------------------


def test_job_requests_with_ids_are_enqueued_once_each_after_the_commit(app):
    with app.app_context():
        request_job(db.session, "exports.build", 5)
        request_job(db.session, "exports.build", 5)
        request_job(db.session, "exports.build", 6)
        request_job(db.session, "portfolio.update")
        request_job(db.session, "portfolio.update")
        assert queue_of(app).pending_count() == 0
        db.session.commit()
    assert queue_of(app).pending_count() == 3

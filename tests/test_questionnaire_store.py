"""Questionnaires stored as immutable versions (vendor_risk/services/questionnaires.py)."""

import sqlalchemy as sa

from vendor_risk.core.questionnaire import loader
from vendor_risk.db import db
from vendor_risk.models import AuditEvent, Questionnaire, QuestionnaireVersion
from vendor_risk.services.audit import Actor
from vendor_risk.services.questionnaires import library as questionnaires

SMALL = """
format: 1
id: small
title: Small
version: 1
audience: vendor
sections:
  - id: one
    title: One
    questions:
      - id: mfa
        type: yes_no
        text: Do you use MFA?
"""


def test_shipped_questionnaires_are_stored_once_and_a_change_makes_a_new_version(app):
    actor = Actor.system("test")
    with app.app_context():
        first = questionnaires.sync_shipped(db.session, actor=actor)
        assert len(first) == 3
        assert all(s.created for s in first)
        again = questionnaires.sync_shipped(db.session, actor=actor)
        assert not any(s.created for s in again)  # unchanged content: a no-op
        assert [s.version.id for s in again] == [s.version.id for s in first]

        small = loader.parse(SMALL, "small.yaml").questionnaire
        v1 = questionnaires.store_version(db.session, small, source="small.yaml", actor=actor)
        changed = loader.parse(
            SMALL.replace("Do you use MFA?", "Do all staff use MFA?")
        ).questionnaire
        v2 = questionnaires.store_version(db.session, changed, source="small.yaml", actor=actor)
        db.session.commit()
        assert (v1.version.number, v2.version.number) == (1, 2)
        assert questionnaires.questionnaire_of(v1.version).question("mfa").text == "Do you use MFA?"
        latest = {v.questionnaire_id: v.number for v in questionnaires.latest_versions(db.session)}
        assert latest[v2.version.questionnaire_id] == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Questionnaire)) == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionnaireVersion)) == 5
        created = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "questionnaire.version_created")
        ).all()
        assert len(created) == 5

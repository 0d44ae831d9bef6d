"""The first-run checklist on the admin's home page: from an empty instance to a first
questionnaire sent, each step done or not, read in one query of cheap EXISTS tests."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import DataCategory, QuestionnaireRequest, Role, System, Vendor
from .accounts.users import holders_exist


@dataclass(frozen=True)
class FirstRun:
    risk_officer: bool  # an active user holds the role (the admin themselves, perhaps)
    procurement: bool
    vendors: bool
    systems: bool
    data_categories: bool
    questionnaire_sent: bool

    @property
    def team(self) -> bool:
        return self.risk_officer and self.procurement

    @property
    def systems_and_data(self) -> bool:
        return self.systems and self.data_categories

    @property
    def steps_done(self) -> int:
        return sum((self.team, self.vendors, self.systems_and_data, self.questionnaire_sent))

    @property
    def done(self) -> bool:
        return self.steps_done == 4


def first_run(session: Session) -> FirstRun:
    """What of the first steps is done: one SELECT of six EXISTS tests."""
    row = session.execute(
        sa.select(
            holders_exist(Role.risk_officer),
            holders_exist(Role.procurement),
            sa.exists().where(Vendor.id.is_not(None)),
            sa.exists().where(System.id.is_not(None)),
            sa.exists().where(DataCategory.id.is_not(None)),
            sa.exists().where(QuestionnaireRequest.sent_at.is_not(None)),
        )
    ).one()
    return FirstRun(*(bool(value) for value in row))

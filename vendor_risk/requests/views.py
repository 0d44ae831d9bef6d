"""Questionnaire requests: sending them to vendors, their invites and reminders (procurement and
risk officers)."""

from ..access import area
from ..models import Role

bp = area("requests", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/requests")

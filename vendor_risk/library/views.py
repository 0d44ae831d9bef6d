"""The questionnaire library: questionnaires and their immutable versions (procurement and risk
officers)."""

from ..access import area
from ..models import Role

bp = area(
    "library",
    __name__,
    roles={Role.procurement, Role.risk_officer},
    url_prefix="/questionnaires",
)

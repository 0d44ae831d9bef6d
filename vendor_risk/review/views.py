"""Review of submitted questionnaires (risk officers)."""

from ..access import area
from ..models import Role

bp = area("review", __name__, roles={Role.risk_officer}, url_prefix="/review")

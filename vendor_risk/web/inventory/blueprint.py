"""The inventory's blueprint, which every page of it (the *_views modules) joins: procurement
and risk officers only."""

from __future__ import annotations

from ...core.labels import label
from ...models import Role
from ..access import area

bp = area(
    "inventory", __name__, roles={Role.procurement, Role.risk_officer}, url_prefix="/inventory"
)

bp.add_app_template_filter(label, "enum_label")

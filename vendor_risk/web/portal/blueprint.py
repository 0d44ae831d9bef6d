"""The vendor portal's blueprint, which its pages (views) and its findings (findings_views)
join: only vendor contacts reach it."""

from __future__ import annotations

from ...models import Role
from ..access import area

bp = area("portal", __name__, roles={Role.vendor_contact}, url_prefix="/portal")

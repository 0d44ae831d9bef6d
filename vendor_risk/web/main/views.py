"""The front door: every logged-in user is sent to their role's home page."""

from flask import redirect
from flask_login import current_user

from ..access import area, home_url

bp = area("main", __name__, roles=None)


@bp.get("/")
def index():
    return redirect(home_url(current_user))

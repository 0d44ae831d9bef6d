"""Risk officers: the portfolio's dashboard (findings, incidents and reports have their own
areas)."""

from flask import render_template

from ...core.scoring import MISSING_WORDS
from ...db import db, expect_writes, utcnow
from ...models import Role
from ...services import portfolio_history
from ...services.portfolio import aggregates as portfolio
from ...services.portfolio import dashboards
from ..access import area
from . import dashboard

bp = area("risk", __name__, roles={Role.risk_officer}, url_prefix="/risk")


@bp.get("/")
def home():
    # The aggregates are read as stored (the background update keeps them current; the page
    # says "updating" meanwhile). A database migrated with ratings already in it gets its
    # first figures here.
    freshness = portfolio.freshness(db.session)
    if portfolio_history.latest(db.session) is None:
        expect_writes(db.session)
        portfolio_history.record_day(db.session, utcnow())
        db.session.commit()
    data = dashboards.risk_dashboard(db.session, today=utcnow().date())
    return render_template(
        "risk/home.html",
        data=data,
        charts=dashboard.charts(data),
        tiers_down=portfolio_history.TIERS_DOWN,
        unrated=portfolio_history.UNRATED,
        trend_days=dashboards.TREND_DAYS,
        missing_words=MISSING_WORDS,
        freshness=freshness,
    )

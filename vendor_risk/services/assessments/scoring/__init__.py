"""Scores kept up to date: each vendor's residual risk, computed by the pure scoring package
(docs/scoring.md) from what the app already keeps current, and stored with its history.

What a score reads, and where it comes from:

- inherent risk and exposure: the portfolio aggregates (``vendor_reach``: the vendor's profile,
  its blast-radius counts and the most sensitive data reached), recomputed after any inventory
  change (services.portfolio);
- the control score: per-section totals of the answers (``request_score``), stored when a
  request is submitted (answers are read-only from then on, until a reviewer returns it and the
  vendor submits again). The vendor's latest *accepted* request of each scored questionnaire
  counts in the rating; its latest submitted one (not cancelled; returned ones too, with the
  answers last submitted), when no risk officer has accepted it yet, counts in the
  provisional rating shown beside it (a vendor's own answers are provisional until accepted);
  the sections of several questionnaires count together.

So rescoring reads one row per vendor and one per counted request, never the answers. Whether
a vendor's score changed is known before computing it: its inputs are those rows' documents as
stored, whose digest is compared with its rating's, and only the vendors whose inputs changed
are computed.

When scores are computed again: a request submitted (again), accepted or cancelled; a review
decision; the aggregates refreshed after an inventory change (only the vendors whose profile
or reach changed, and those not scored yet); a scoring method of another version than the
stored ratings'; and on demand (``flask --app app rescore``). Each computation whose inputs
differ from the vendor's current rating's is kept as a snapshot (``vendor_score``: the history
is the trend) and becomes the current rating (``vendor_rating``); one from the same inputs adds
nothing, unless it comes from an event worth a point in the history (a submission, an
acceptance, a decision).

A vendor without aggregates yet (added since the last refresh) is scored at the next refresh.

The package, one module per part: ``counted`` (a request's totals, the requests that count),
``rescoring`` (computing and storing scores), ``events`` (what rescores), ``explanation`` (a
stored score explained) and ``reading`` (ratings, history, tiers). Every name is re-exported
here.
"""

from .counted import Counted, CountedTotals, counted_requests, counted_totals, store_totals
from .events import after_aggregates, request_closed, request_submitted
from .explanation import REASONS, explain, explanation
from .reading import history, rating_of, tier_counts
from .rescoring import (
    ALWAYS_RECORDED,
    BATCH,
    Rescored,
    fingerprint,
    missing_facts,
    missing_text,
    outdated,
    rescore,
    unscored,
)

__all__ = [
    "ALWAYS_RECORDED",
    "BATCH",
    "REASONS",
    "Counted",
    "CountedTotals",
    "Rescored",
    "after_aggregates",
    "counted_requests",
    "counted_totals",
    "explain",
    "explanation",
    "fingerprint",
    "history",
    "missing_facts",
    "missing_text",
    "outdated",
    "rating_of",
    "request_closed",
    "request_submitted",
    "rescore",
    "store_totals",
    "tier_counts",
    "unscored",
]

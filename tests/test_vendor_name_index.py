"""Name searches typed on every keystroke (the vendor fields' suggestions, the vendors list's
search) are served by a trigram index on PostgreSQL at 50,000 vendors (issue 16), not by reading
every vendor. SQLite has no such index: it reads the table, which is quick enough in one process."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from conftest import BACKEND

from vendor_risk.db import db
from vendor_risk.models import Vendor
from vendor_risk.services.inventory.vendors import vendor_names, vendor_names_query

SYLLABLES = ["ka", "lo", "mi", "ne", "ro", "sa", "tu", "vi", "ze", "bra", "cle", "dro", "fli"]
SYLLABLES += ["gra", "pho", "qua", "stri", "tho", "wex", "yon"]
SUFFIXES = ["Systems", "Cloud", "Labs", "Software", "Partners", "Group", "Health", "Pay", "Data"]


def names(n: int) -> list[str]:
    """Vendor names as varied as real ones (a trigram index is chosen by how selective the
    searched text is: ``Vendor 000123`` names would all share their trigrams)."""
    rng = random.Random(16)
    found: set[str] = set()
    while len(found) < n:
        stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        found.add(f"{stem.capitalize()} {rng.choice(SUFFIXES)}")
    return sorted(found)


@pytest.mark.skipif(BACKEND != "postgresql", reason="the trigram index is PostgreSQL's")
def test_a_name_search_uses_the_trigram_index_at_50000_vendors(app):
    with app.app_context():
        session = db.session
        # One bulk INSERT: the model's Python-side defaults, taken from one vendor, and a name.
        row = Vendor(name="x").model_dump(exclude={"id", "name", "name_key"})
        session.execute(sa.insert(Vendor), [row | {"name": name} for name in names(50_000)])
        session.commit()
        # As autovacuum would: the index's pending entries merged, the statistics taken.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE vendor")
        query = vendor_names_query("wexth")
        compiled = query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(
            session.execute(sa.text("EXPLAIN " + str(compiled).replace("%%", "%"))).scalars()
        )
        assert "ix_vendor_name_key_trgm" in plan, plan
        found = vendor_names(session, "WEXTH")
        assert found and all("wexth" in name.lower() for name in found)

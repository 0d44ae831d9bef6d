"""Benchmark: the blast-radius engine against networkx, on a synthetic portfolio.

Generates a portfolio through the models into a fresh database (SQLite by default), then times
in the same run: the database loader, the counts for every vendor, one explained breach for a
typical vendor and for the one with the largest reach, and the networkx reference (descendants
of each vendor in a graph of the same edges, one graph per view: despite the controls, if they
fail). The portfolio has issue 14's edges (federation, systems run by vendors, vendor software,
network zones, session tokens, named fourth parties) unless --without-new-edges. Prints one
JSON object per measurement on stdout and nothing else; progress goes to stderr. See
bench/README.md.

    .venv/bin/python bench/blast_radius.py --stored 0.05
    .venv/bin/python bench/blast_radius.py --stored 0.05 --without-new-edges
    .venv/bin/python bench/blast_radius.py --scaling
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO, TypeVar

import networkx as nx
import sqlalchemy as sa
from alembic import command
from pydantic_core import PydanticUndefined

from vendor_risk import create_app
from vendor_risk.core.blast_radius.engine import (
    BARRIERS,
    Inventory,
    compute,
    concentration,
    reach_counts_for_all_vendors,
)
from vendor_risk.core.collection import collection_paused
from vendor_risk.db import alembic_config, db, snapshot
from vendor_risk.models import (
    Credential,
    CredentialCopy,
    CredentialKind,
    Criticality,
    DataCategory,
    Environment,
    Federation,
    FourthParty,
    NetworkZone,
    Privilege,
    Sensitivity,
    SoftwareSupply,
    SubprocessorData,
    SubprocessorLink,
    Substitutability,
    System,
    SystemData,
    SystemKind,
    SystemOpenZone,
    SystemReach,
    SystemZone,
    Vendor,
    VendorData,
    VendorStatus,
    ZoneReach,
)
from vendor_risk.services.blast_radius import load_inventory, vendor_blast_radius
from vendor_risk.services.portfolio import aggregates as portfolio_service

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)  # every date is generated around it: reproducible
CATEGORIES = 30
INTERACTIVE_KINDS = [
    CredentialKind.user_account,
    CredentialKind.sso_admin,
    CredentialKind.support_access,
    CredentialKind.vpn,
]
MACHINE_KINDS = [kind for kind in CredentialKind if kind not in INTERACTIVE_KINDS]
SCALING_VENDORS = (1_000, 10_000, 50_000)
# Issue 14's edges, laid over the portfolio above (the same rows, then these): see README.
IDENTITY_PROVIDERS = 3  # systems that others trust for sign-in
TRUSTED_SHARE = (0.10, 0.30)  # each is trusted by this share of systems (200-600 of 2,000)
IDP_CREDENTIALS = 0.01  # share of credentials that open an identity provider
SESSION_TOKENS = 0.02  # share of the other credentials that are stolen-session tokens
OPERATED = 0.05  # share of systems run by a vendor (SaaS)
SUPPLIERS = 0.02  # share of vendors whose software runs on 1 to 20 of our systems
SOFTWARE = ("monitoring agent", "remote management", "CI step", "file transfer server", "backup")
# Network zones, weighted by how many systems they hold, and which zones each can connect to:
# a flat corporate network, a DMZ and production reaching each other (a cycle), payments
# behind production and the back office.
ZONES: dict[str, tuple[int, tuple[str, ...]]] = {
    "corporate": (30, ("production", "build", "backoffice")),
    "office-wifi": (5, ("corporate",)),
    "dmz": (10, ("production",)),
    "production": (25, ("payments", "dmz")),
    "payments": (5, ()),
    "build": (10, ("production",)),
    "backoffice": (10, ("payments",)),
    "partners": (5, ("dmz",)),
}
IN_A_ZONE, IN_TWO_ZONES = 0.5, 0.05  # shares of systems (the others: SaaS, off our networks)
OPEN_TO_A_ZONE = 0.01  # share of systems accepting connections with no sign-in from a zone
FOURTH_PARTIES = 100  # named fourth parties; as many links to them as --links
T = TypeVar("T")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the synthetic portfolio ----------------------------------------------------------------


def defaults(model: type) -> dict[str, Any]:
    """Every field's default: a bulk INSERT applies none of them (SQLModel keeps them in Python)."""
    values = {}
    for name, info in model.model_fields.items():
        if name == "id":
            continue
        if info.default_factory is not None:
            values[name] = info.default_factory()
        elif info.default is not PydanticUndefined:
            values[name] = info.default
    return values


# Bound parameters per INSERT statement: under SQLite's and PostgreSQL's limits (32,766 and
# 65,535).
PARAMETERS_PER_STATEMENT = 30_000


def insert(session, model: type, rows: list[dict[str, Any]], *key: str) -> list[int]:
    """Bulk INSERTs of many rows each (one statement per row, as executemany runs them, would
    fire the inventory's statement-level triggers once per row: on PostgreSQL each bumps the
    one portfolio_state row again, and 250,000 versions of one row in one transaction cost
    minutes); then, when ``key`` names columns unique together, the new ids in the rows' order
    (read back: portable and far faster than RETURNING)."""
    base = defaults(model)
    full = [base | row for row in rows]
    if full:
        per_statement = max(1, PARAMETERS_PER_STATEMENT // len(full[0]))
        table = model.__table__
        for start in range(0, len(full), per_statement):
            session.execute(table.insert().values(full[start : start + per_statement]))
    if not key:
        return []
    columns = [getattr(model, column) for column in key]
    ids = {
        tuple(found): found_id
        for *found, found_id in session.execute(sa.select(*columns, model.id))
    }
    return [ids[tuple(row[column] for column in key)] for row in rows]


def maybe(rng: random.Random, probability: float, value: Callable[[], T]) -> T | None:
    return value() if rng.random() < probability else None


def holdings(rng: random.Random, owner: str, owner_id: int, category_ids: list[int], most: int):
    """Up to ``most`` distinct categories held by one system or vendor, most with a count."""
    return [
        {
            owner: owner_id,
            "data_category_id": category_id,
            "records": rng.randint(1, 10**6) if rng.random() < 0.7 else None,
        }
        for category_id in rng.sample(category_ids, rng.randint(0, most))
    ]


def generate(session, sizes: dict[str, Any], seed: int) -> dict[str, int]:
    """The portfolio, written through the models; returns how many rows each table got."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    days = timedelta(days=1)
    category_ids = insert(
        session,
        DataCategory,
        [
            {"name": f"Category {n:02}", "sensitivity": rng.choice(list(Sensitivity))}
            for n in range(CATEGORIES)
        ],
        "name",
    )
    system_ids = insert(
        session,
        System,
        [
            {
                "name": f"System {n:05}",
                "kind": rng.choice(list(SystemKind)),
                "environment": rng.choice(list(Environment)),
                "owner": f"team-{n % 40}",
                "mfa_required": rng.random() < 0.3,
            }
            for n in range(sizes["systems"])
        ],
        "name",
    )
    vendor_ids = insert(
        session,
        Vendor,
        [
            {
                "name": f"Vendor {n:06}",
                "status": rng.choice(list(VendorStatus)),
                "criticality": rng.choice(list(Criticality)),
                "substitutability": rng.choice(list(Substitutability)),
            }
            for n in range(sizes["vendors"])
        ],
        "name",
    )
    system_data = [
        row
        for system_id in system_ids
        for row in holdings(rng, "system_id", system_id, category_ids, 3)
    ]
    vendor_data = [
        row
        for vendor_id in vendor_ids
        for row in holdings(rng, "vendor_id", vendor_id, category_ids, 2)
    ]
    insert(session, SystemData, system_data)
    insert(session, VendorData, vendor_data)

    credential_rows = []
    for n in range(sizes["credentials"]):
        interactive = rng.random() < 0.3
        credential_rows.append(
            {
                "name": f"credential-{n:07}",
                "kind": rng.choice(INTERACTIVE_KINDS if interactive else MACHINE_KINDS),
                "holder_vendor_id": maybe(rng, 0.8, lambda: rng.choice(vendor_ids)),
                "system_id": rng.choice(system_ids),
                "privilege": rng.choice(list(Privilege)),
                "interactive": interactive,
                "mfa_enforced": interactive and rng.random() < 0.7,
                "phishing_resistant_mfa": interactive and rng.random() < 0.1,
                "ip_restricted": rng.random() < 0.05,
                "status": "revoked" if rng.random() < 0.05 else "active",
                "issued_at": AS_OF - rng.randint(30, 1000) * days,
                "last_rotated_at": maybe(rng, 0.5, lambda: AS_OF - rng.randint(1, 400) * days),
                "expires_at": maybe(rng, 0.3, lambda: AS_OF + rng.randint(-100, 400) * days),
                "rotation_period_days": rng.choice([None, 90, 180, 365]),
                "owner": f"owner-{n % 500}",
            }
        )
    # Issue 14's edges come from their own random stream: without them (--without-new-edges)
    # the portfolio is row for row the one the benchmark generated before them.
    extra = random.Random(seed + 14) if sizes.get("new_edges") else None  # noqa: S311
    idp_ids = [] if extra is None else extra.sample(system_ids, IDENTITY_PROVIDERS)
    if extra is not None:
        credentials_for_new_edges(extra, credential_rows, idp_ids)
    credential_ids = insert(session, Credential, credential_rows, "name")
    # The lateral edges: a copy kept in a system (a token in a ticket, a key in a repository).
    copies = [
        {"credential_id": credential_id, "system_id": rng.choice(system_ids)}
        for credential_id in credential_ids
        if rng.random() < sizes["stored"]
    ]
    insert(session, CredentialCopy, copies)

    pairs: set[tuple[int, int]] = set()
    while len(pairs) < min(sizes["links"], len(vendor_ids) * (len(vendor_ids) - 1)):
        vendor_id, subprocessor_id = rng.sample(vendor_ids, 2)
        pairs.add((vendor_id, subprocessor_id))
    link_ids = insert(
        session,
        SubprocessorLink,
        [{"vendor_id": a, "subprocessor_id": b, "purpose": "hosting"} for a, b in sorted(pairs)],
        "vendor_id",
        "subprocessor_id",
    )
    passed_on = [
        {"link_id": link_id, "data_category_id": category_id}
        for link_id in link_ids
        for category_id in rng.sample(category_ids, rng.randint(1, 2))
    ]
    if extra is not None:  # data passed on carries its approximate records (issue 14)
        for row in passed_on:
            row["records"] = maybe(extra, 0.7, lambda: extra.randint(1, 10**5))
    insert(session, SubprocessorData, passed_on)
    new_rows = {}
    if extra is not None:
        new_rows = new_edges(session, extra, sizes, vendor_ids, system_ids, category_ids, idp_ids)
    session.commit()
    return new_rows | {
        "data_categories": len(category_ids),
        "systems": len(system_ids),
        "vendors": len(vendor_ids),
        "system_data": len(system_data),
        "vendor_data": len(vendor_data),
        "credentials": len(credential_ids),
        "credential_copies": len(copies),
        "subprocessor_links": len(link_ids),
        "subprocessor_data": len(passed_on),
    }


def credentials_for_new_edges(
    rng: random.Random, rows: list[dict[str, Any]], idp_ids: list[int]
) -> None:
    """Point a share of the credentials at the identity providers (admins, users, session
    tokens), and make a share of the others stolen-session tokens (past MFA)."""
    for row in rows:
        if rng.random() < IDP_CREDENTIALS:
            kind = rng.choices(
                [
                    CredentialKind.sso_admin,
                    CredentialKind.user_account,
                    CredentialKind.session_token,
                ],
                [3, 5, 2],
            )[0]
            row |= {
                "system_id": rng.choice(idp_ids),
                "kind": kind,
                "privilege": Privilege.read
                if kind == CredentialKind.user_account
                else Privilege.admin,
                "interactive": True,
                "mfa_enforced": rng.random() < 0.8,
            }
        elif rng.random() < SESSION_TOKENS:
            row |= {"kind": CredentialKind.session_token, "interactive": True}


def new_edges(
    session,
    rng: random.Random,
    sizes: dict[str, Any],
    vendor_ids: list[int],
    system_ids: list[int],
    category_ids: list[int],
    idp_ids: list[int],
) -> dict[str, int]:
    """Issue 14's edges: federation, systems run by vendors, vendor software, network zones,
    named fourth parties. Returns how many rows each table got."""
    operated = [
        {"id": system_id, "operator_vendor_id": rng.choice(vendor_ids)}
        for system_id in system_ids
        if rng.random() < OPERATED
    ]
    if operated:  # an UPDATE by primary key, in bulk: systems are written before vendors
        session.execute(sa.update(System), operated)

    federations = []
    for idp_id in idp_ids:
        share = rng.uniform(*TRUSTED_SHARE)
        trusting = [s for s in system_ids if s != idp_id and rng.random() < share]
        federations += [
            {
                "identity_provider_id": idp_id,
                "system_id": system_id,
                "privilege": rng.choices(list(Privilege), [60, 25, 15])[0],
                "mfa_enforced": rng.random() < 0.25,
            }
            for system_id in trusting
        ]
    insert(session, Federation, federations)

    software = []
    for vendor_id in vendor_ids:
        if rng.random() < SUPPLIERS:
            product = rng.choice(SOFTWARE)
            for system_id in rng.sample(system_ids, rng.randint(1, min(20, len(system_ids)))):
                software.append(
                    {
                        "system_id": system_id,
                        "vendor_id": vendor_id,
                        "software": product,
                        "privilege": rng.choices(list(Privilege), [15, 15, 70])[0],
                        "automatic_updates": rng.random() < 0.6,
                    }
                )
    insert(session, SoftwareSupply, software)

    names = list(ZONES)
    new_zone_ids = insert(session, NetworkZone, [{"name": name} for name in names], "name")
    zone_ids = dict(zip(names, new_zone_ids, strict=True))
    reaches = [
        {"from_zone_id": zone_ids[name], "to_zone_id": zone_ids[target]}
        for name, (_, targets) in ZONES.items()
        for target in targets
    ]
    insert(session, ZoneReach, reaches)
    weights = [weight for weight, _ in ZONES.values()]
    members, open_to = [], []
    for system_id in system_ids:
        if rng.random() >= IN_A_ZONE:
            continue
        zones = set(rng.choices(names, weights, k=2 if rng.random() < IN_TWO_ZONES else 1))
        members += [{"system_id": system_id, "zone_id": zone_ids[z]} for z in sorted(zones)]
        if rng.random() < OPEN_TO_A_ZONE / IN_A_ZONE:
            # Open to a zone that can connect to it: its own, or one reaching one of its zones.
            sources = sorted(z for z, (_, to) in ZONES.items() if z in zones or zones & set(to))
            open_to.append({"system_id": system_id, "zone_id": zone_ids[rng.choice(sources)]})
    insert(session, SystemZone, members)
    insert(session, SystemOpenZone, open_to)

    party_ids = insert(
        session,
        FourthParty,
        [
            {"name": f"Fourth party {n:03}", "service": rng.choice(SERVICES)}
            for n in range(FOURTH_PARTIES)
        ],
        "name",
    )
    popularity = [1 / (rank + 1) for rank in range(len(party_ids))]  # a few used by many
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < min(sizes["links"], len(vendor_ids) * len(party_ids)):
        pairs.add((rng.choice(vendor_ids), rng.choices(party_ids, popularity)[0]))
    party_links = [
        {"vendor_id": a, "fourth_party_id": b, "purpose": "hosting"} for a, b in sorted(pairs)
    ]
    link_ids = insert(session, SubprocessorLink, party_links, "vendor_id", "fourth_party_id")
    passed = [
        {
            "link_id": link_id,
            "data_category_id": category_id,
            "records": maybe(rng, 0.7, lambda: rng.randint(1, 10**5)),
        }
        for link_id in link_ids
        for category_id in rng.sample(category_ids, rng.randint(1, 2))
    ]
    insert(session, SubprocessorData, passed)
    return {
        "operated_systems": len(operated),
        "federations": len(federations),
        "identity_providers": len(idp_ids),
        "software_supplies": len(software),
        "software_vendors": len({row["vendor_id"] for row in software}),
        "network_zones": len(zone_ids),
        "zone_reaches": len(reaches),
        "system_zones": len(members),
        "systems_open_to_a_zone": len(open_to),
        "fourth_parties": len(party_ids),
        "fourth_party_links": len(link_ids),
        "fourth_party_data": len(passed),
    }


SERVICES = ("cloud hosting", "email delivery", "payments", "analytics", "support desk", "CDN")


# ---- databases ------------------------------------------------------------------------------

# Children first, so deleting in this order never breaks a foreign key.
INVENTORY_TABLES = (
    SubprocessorData,
    SubprocessorLink,
    FourthParty,
    CredentialCopy,
    Credential,
    Federation,
    SoftwareSupply,
    SystemOpenZone,
    SystemZone,
    ZoneReach,
    VendorData,
    SystemData,
    System,  # before the vendors that operate them
    Vendor,
    NetworkZone,
    DataCategory,
)


@contextlib.contextmanager
def portfolio_database(url: str | None, workdir: Path, label: str) -> Iterator[Any]:
    """An app context on a migrated database with an empty inventory: a new SQLite file, or
    the given database (refused if it already holds an inventory; emptied again at the end)."""
    if url is None:
        url = f"sqlite:///{workdir / f'portfolio-{label}.sqlite'}"
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url}, instance_path=str(workdir))
    with app.app_context():
        cfg = alembic_config(url)
        cfg.attributes["configure_logging"] = False
        command.upgrade(cfg, "head")
        session = db.session
        if session.scalar(sa.select(sa.func.count()).select_from(Vendor)):
            raise SystemExit(f"{db.engine.url!r} already holds vendors: give an empty database")
        try:
            yield session
        finally:
            session.rollback()
            if db.engine.dialect.name == "sqlite":
                db.engine.dispose()
            else:  # a server database outlives the run: leave it as it was given
                for model in INVENTORY_TABLES:
                    session.execute(sa.delete(model))
                session.commit()
                db.engine.dispose()


# ---- measuring ------------------------------------------------------------------------------


class Report:
    def __init__(self, out: TextIO, sizes: dict[str, Any], repeat: int) -> None:
        self.out, self.sizes, self.repeat = out, sizes, repeat

    def emit(self, name: str, seconds: float | None, **fields: Any) -> None:
        line = {"name": name, "sizes": self.sizes, "seconds": _round(seconds), **fields}
        print(json.dumps(line), file=self.out, flush=True)


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else float(f"{seconds:.4g}")


def best_of(repeat: int, work: Callable[[], T]) -> tuple[T, float]:
    """The last result and the fastest of ``repeat`` runs (the one least disturbed by whatever
    else the machine was doing), each started after a full garbage collection."""
    fastest, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = work()
        fastest = min(fastest, time.perf_counter() - start)
    return result, fastest


def fresh_load(session) -> Inventory:
    session.expunge_all()  # nothing cached from the previous run: every row comes from SQL
    return load_inventory(session)


def networkx_graph(inventory: Inventory, despite: bool) -> tuple[nx.DiGraph, set[int]]:
    """The reference graph of one view (``despite``: despite the controls; else if they fail),
    restated from the inventory's entities, not from the engine's indexes:

    - vendor -> credential it holds -> its system (despite the controls only when none of the
      engine's BARRIERS holds, as of AS_OF); system -> credential stored in it;
    - vendor -> system it operates (with admin); vendor -> system running its software
      (despite the controls only with automatic updates);
    - an identity provider has a second node, its signed-in state, entered by admin privilege
      or a session token: it leads to the plain state and to each system that trusts it
      (despite the controls only where the system asks no MFA of its own), entered in the
      signed-in state if admin there (federations chain);
    - system -> a foothold in each of its zones -> despite the controls: each system of that
      zone or of a zone it reaches that accepts connections from it with no sign-in; if the
      controls fail: every system of those zones (through one node per zone entered).

    Integer nodes in ranges, which networkx hashes faster than tuples: the reference at its
    best. Returns the graph and the plain system nodes (a system is counted once, whichever
    state it was reached in: the signed-in state leads to the plain one)."""
    clock = SimpleNamespace(as_of=AS_OF, since=None)
    credential_base = max(inventory.vendors, default=0) + 1
    system_base = credential_base + max(inventory.credentials, default=0) + 1
    signed_in_base = system_base + max(inventory.systems, default=0) + 1
    foothold_base = signed_in_base + max(inventory.systems, default=0) + 1
    zone_base = foothold_base + max(inventory.zones, default=0) + 1
    idps = {fed.identity_provider_id for fed in inventory.federations}

    def arrival(system_id: int, privilege: str, kind: str = "") -> int:
        signs_in = system_id in idps and (privilege == "admin" or kind == "session_token")
        return (signed_in_base if signs_in else system_base) + system_id

    graph = nx.DiGraph()
    graph.add_nodes_from(inventory.vendors)
    for cred in inventory.credentials.values():
        node = credential_base + cred.id
        if cred.holder_vendor_id is not None:
            graph.add_edge(cred.holder_vendor_id, node)
        for system_id in cred.stored_in:
            graph.add_edge(system_base + system_id, node)
        system = inventory.systems[cred.system_id]
        if not despite or not any(holds(cred, system, clock) for holds in BARRIERS.values()):
            graph.add_edge(node, arrival(cred.system_id, cred.privilege, cred.kind))
    for system in inventory.systems.values():
        if system.operator_vendor_id is not None:
            graph.add_edge(system.operator_vendor_id, arrival(system.id, "admin"))
    for supply in inventory.software:
        if not despite or supply.automatic_updates:
            graph.add_edge(supply.vendor_id, arrival(supply.system_id, supply.privilege))
    for idp_id in idps:
        graph.add_edge(signed_in_base + idp_id, system_base + idp_id)
    for fed in inventory.federations:
        if not despite or not fed.mfa_enforced:
            target = arrival(fed.system_id, fed.privilege)
            graph.add_edge(signed_in_base + fed.identity_provider_id, target)
    members: dict[int, list[int]] = {}
    for system in inventory.systems.values():
        for zone_id in system.zone_ids:
            graph.add_edge(system_base + system.id, foothold_base + zone_id)
            members.setdefault(zone_id, []).append(system.id)
    for zone in inventory.zones.values():
        for target_zone in {zone.id, *zone.reaches}:
            if not despite:
                graph.add_edge(foothold_base + zone.id, zone_base + target_zone)
                continue
            for system_id in members.get(target_zone, ()):
                if zone.id in inventory.systems[system_id].accepts_unauthenticated_from:
                    graph.add_edge(foothold_base + zone.id, system_base + system_id)
    if not despite:
        for zone_id, systems in members.items():
            for system_id in systems:
                graph.add_edge(zone_base + zone_id, system_base + system_id)
    return graph, {system_base + system_id for system_id in inventory.systems}


def networkx_counts(graph: nx.DiGraph, system_nodes: set[int], vendor_ids) -> dict[int, int]:
    return {v: len(nx.descendants(graph, v) & system_nodes) for v in vendor_ids}


# The two views: the count of ReachCounts each is checked against, and the names of its lines.
VIEWS = (
    ("despite_controls", True, "systems_despite_controls", ""),
    ("if_controls_fail", False, "systems_if_controls_fail", "_if_controls_fail"),
)


def measure_all_vendors(report: Report, inventory: Inventory, nx_sample: int, seed: int):
    """Engine and networkx, every vendor, both views; returns the engine's counts and seconds.
    The engine computes both views (and the data categories) in one call: networkx needs one
    graph and one search per vendor for each view."""
    counts, engine_seconds = best_of(
        report.repeat, lambda: reach_counts_for_all_vendors(inventory, as_of=AS_OF)
    )
    vendors = len(inventory.vendors)
    report.emit(
        "all_vendors",
        engine_seconds,
        vendors=vendors,
        microseconds_per_vendor=round(engine_seconds / max(vendors, 1) * 1e6, 2),
        mean_systems_despite_controls=round(
            statistics.fmean(c.systems_despite_controls for c in counts.values()), 1
        ),
        mean_systems_if_controls_fail=round(
            statistics.fmean(c.systems_if_controls_fail for c in counts.values()), 1
        ),
    )
    vendor_ids = sorted(inventory.vendors)
    timed = vendor_ids
    if 0 < nx_sample < len(vendor_ids):
        timed = sorted(random.Random(seed).sample(vendor_ids, nx_sample))  # noqa: S311
    scale = len(vendor_ids) / max(len(timed), 1)  # 1 unless sampled
    total = 0.0
    for view, despite, field, suffix in VIEWS:
        progress(f"networkx, {view}: building the graph")
        (graph, system_nodes), graph_seconds = best_of(
            report.repeat, lambda despite=despite: networkx_graph(inventory, despite)
        )
        report.emit(
            f"networkx_graph_build{suffix}",
            graph_seconds,
            view=view,
            nodes=graph.number_of_nodes(),
            edges=graph.number_of_edges(),
        )
        progress(f"networkx, {view}: descendants of {len(timed)} vendors, best of {report.repeat}")
        nx_reach, nx_seconds = best_of(
            report.repeat,
            lambda graph=graph, system_nodes=system_nodes: networkx_counts(
                graph, system_nodes, timed
            ),
        )
        disagree = [v for v in timed if nx_reach[v] != getattr(counts[v], field)]
        if disagree:
            raise SystemExit(
                f"networkx and the engine disagree ({view}) on vendors {disagree[:10]}: "
                f"{[(nx_reach[v], getattr(counts[v], field)) for v in disagree[:10]]}"
            )
        nx_all = nx_seconds * scale
        total += nx_all + graph_seconds
        report.emit(
            f"networkx_all_vendors{suffix}",
            nx_all,
            view=view,
            vendors=len(vendor_ids),
            vendors_timed=len(timed),
            extrapolated=scale != 1,
            agreed=len(timed),
            ratio=round(nx_all / engine_seconds, 1),
            ratio_with_graph_build=round((nx_all + graph_seconds) / engine_seconds, 1),
        )
        del graph, system_nodes, nx_reach
    report.emit(
        "networkx_both_views",
        total,
        reference="both graphs built and searched from every vendor",
        ratio=round(total / engine_seconds, 1),
    )
    return counts, engine_seconds


def measure_one_vendor(report: Report, inventory: Inventory, name: str, vendor_id: int, counts):
    result, seconds = best_of(report.repeat, lambda: compute(inventory, [vendor_id], as_of=AS_OF))
    figures = result.figures
    expected = counts[vendor_id]
    found = (
        figures.systems_despite_controls,
        figures.systems_if_controls_fail,
        figures.categories_despite_controls,
    )
    if found != expected:
        raise SystemExit(f"vendor {vendor_id}: compute says {found}, the counts {expected}")
    report.emit(
        name,
        seconds,
        milliseconds=round(seconds * 1000, 2),
        vendor_id=vendor_id,
        reach=expected._asdict(),
        credentials_to_rotate=figures.credentials_to_rotate,
        barriers_held=figures.barriers_held,
    )


def measure_vendor_page(report: Report, session, name: str, vendor_id: int) -> None:
    """What the vendor's blast-radius tab costs: reading the part of the inventory the breach
    can touch (load_reachable) and computing on it, against the reference of reading the whole
    inventory for the same result."""

    def page():  # what the tab calls: the reachable part read and computed, collection paused
        session.expunge_all()
        with snapshot(session):
            return vendor_blast_radius(session, [vendor_id], as_of=AS_OF)

    def whole():
        session.expunge_all()
        with snapshot(session), collection_paused():
            return compute(load_inventory(session), [vendor_id], as_of=AS_OF)

    result, seconds = best_of(report.repeat, page)
    reference, reference_seconds = best_of(report.repeat, whole)
    if result.to_dict() != reference.to_dict():
        raise SystemExit(f"vendor {vendor_id}: load_reachable disagrees with load_inventory")
    report.emit(
        name,
        seconds,
        milliseconds=round(seconds * 1000, 2),
        reference="load_inventory + compute",
        reference_seconds=_round(reference_seconds),
        ratio=round(reference_seconds / seconds, 1),
        systems_if_controls_fail=result.figures.systems_if_controls_fail,
    )


def measure_portfolio_refresh(report: Report, session) -> float:
    """The portfolio's aggregates recomputed from the database and stored
    (services.portfolio.aggregates.refresh and its commit): the first, which writes every row
    and rates every vendor, then the usual full refresh (hourly, or after an upgrade), which
    recomputes every vendor and writes the rows that differ. Returns the latter's seconds."""

    def refresh():
        session.expunge_all()
        aggregates = portfolio_service.refresh(session, AS_OF)
        session.commit()
        return aggregates

    start = time.perf_counter()
    aggregates = refresh()
    report.emit(
        "portfolio_refresh_first",
        time.perf_counter() - start,
        vendors=len(aggregates.vendors),
        systems=len(aggregates.systems),
    )
    aggregates, seconds = best_of(report.repeat, refresh)
    report.emit(
        "portfolio_refresh",
        seconds,
        vendors=len(aggregates.vendors),
        systems=len(aggregates.systems),
    )
    processes = min(os.cpu_count() or 1, 4)
    if processes > 1:

        def in_chunks():
            session.expunge_all()
            done = portfolio_service.refresh(session, AS_OF, processes=processes)
            session.commit()
            return done

        _, parallel = best_of(report.repeat, in_chunks)
        report.emit(
            "portfolio_refresh_parallel",
            parallel,
            processes=processes,
            reference="portfolio_refresh (one process)",
            reference_seconds=_round(seconds),
            ratio=round(seconds / parallel, 2),
        )
    return seconds


def _timed_update(session) -> tuple[Any, float]:
    session.expunge_all()
    start = time.perf_counter()
    done = portfolio_service.update_pending(session, AS_OF)
    session.commit()
    return done, time.perf_counter() - start


def measure_portfolio_updates(report: Report, session, vendor_id: int, refresh_seconds: float):
    """What an inventory edit costs the aggregates, off the request path: the edit committed
    (the triggers record what it touched), then ``update_pending`` and its commit, against the
    full refresh measured in the same run (``reference``). Two edits: a credential held by the
    typical vendor and stored in no system (it concerns that vendor alone), and a system's MFA
    requirement on the system most vendors reach (it concerns every vendor reaching it); then
    that system's owner (read by no figure: nothing is computed, the aggregates are marked
    current)."""
    stored_anywhere = sa.select(CredentialCopy.credential_id)
    credential = session.scalar(
        sa.select(Credential)
        .where(Credential.holder_vendor_id == vendor_id, Credential.id.not_in(stored_anywhere))
        .order_by(Credential.id)
        .limit(1)
    )

    def toggled(value: bool) -> bool:
        return not value

    def renamed(value: str) -> str:
        return "Platform team" if value != "Platform team" else "Security team"

    edits = []
    if credential is not None:
        edits.append(("portfolio_update_one_vendor", credential, "ip_restricted", toggled))
    system = session.scalar(
        sa.select(System)
        .join(SystemReach, SystemReach.system_id == System.id)
        .order_by(SystemReach.vendors_if_controls_fail.desc(), System.id)
        .limit(1)
    )
    edits.append(("portfolio_update_one_system", system, "mfa_required", toggled))
    edits.append(("portfolio_update_system_owner", system, "owner", renamed))
    edits = [(name, type(row), row.id, attribute, change) for name, row, attribute, change in edits]
    for name, model, row_id, attribute, change in edits:
        timings, done = [], None
        for _ in range(report.repeat):
            row = session.get(model, row_id)
            setattr(row, attribute, change(getattr(row, attribute)))
            edit_start = time.perf_counter()
            session.commit()
            edit_seconds = time.perf_counter() - edit_start
            done, seconds = _timed_update(session)
            timings.append((seconds, edit_seconds))
        seconds, edit_seconds = min(timings)
        report.emit(
            name,
            seconds,
            edit_commit_seconds=_round(edit_seconds),
            changes=done.changes if done else 0,
            vendors_computed="all" if done is None or done.vendors is None else done.vendors,
            reference="portfolio_refresh (every vendor)",
            reference_seconds=_round(refresh_seconds),
            ratio=round(refresh_seconds / seconds, 1),
        )


def run(args: argparse.Namespace, out: TextIO, workdir: Path) -> None:
    sizes = {
        "vendors": args.vendors,
        "credentials": args.credentials,
        "systems": args.systems,
        "links": args.links,
        "stored": args.stored,
        "new_edges": args.new_edges,
    }
    with portfolio_database(args.database_url, workdir, "main") as session:
        report = Report(out, sizes | {"database": db.engine.dialect.name}, args.repeat)
        inventory = portfolio(report, session, sizes, args.seed)
        rebuild = dict(
            vendors=list(inventory.vendors.values()),
            systems=list(inventory.systems.values()),
            credentials=list(inventory.credentials.values()),
            categories=list(inventory.categories.values()),
            links=inventory.links,
            fourth_parties=list(inventory.fourth_parties.values()),
            federations=inventory.federations,
            software=inventory.software,
            zones=list(inventory.zones.values()),
        )
        _, build_seconds = best_of(args.repeat, lambda: Inventory.build(**rebuild))
        report.emit("inventory_build", build_seconds)

        progress("engine: every vendor")
        if args.skip_networkx:
            counts, seconds = best_of(
                args.repeat, lambda: reach_counts_for_all_vendors(inventory, as_of=AS_OF)
            )
            report.emit("all_vendors", seconds, vendors=len(inventory.vendors))
        else:
            counts, _ = measure_all_vendors(report, inventory, args.nx_sample, args.seed)
        by_reach = sorted(counts, key=lambda v: (*counts[v], v))  # despite controls first
        progress("engine: one vendor")
        typical = by_reach[len(by_reach) // 2]
        measure_one_vendor(report, inventory, "one_vendor_typical", typical, counts)
        measure_one_vendor(report, inventory, "one_vendor_largest", by_reach[-1], counts)
        progress("engine: concentration")
        _, seconds = best_of(args.repeat, lambda: concentration(inventory, as_of=AS_OF))
        report.emit("concentration", seconds)
        progress("the vendor page: reading what the breach can touch")
        for name, vendor_id in (("typical", typical), ("largest", by_reach[-1])):
            measure_vendor_page(report, session, f"vendor_page_{name}", vendor_id)
        progress("the portfolio's aggregates: read, compute, store")
        refresh_seconds = measure_portfolio_refresh(report, session)
        progress("the portfolio's aggregates: one edit, then the update")
        measure_portfolio_updates(report, session, typical, refresh_seconds)


def portfolio(report: Report, session, sizes: dict[str, Any], seed: int) -> Inventory:
    progress(f"generating {sizes} into {report.sizes['database']}")
    start = time.perf_counter()
    rows = generate(session, sizes, seed)
    report.emit("generate", time.perf_counter() - start, rows=rows)
    progress(f"loading the inventory, best of {report.repeat}")
    inventory, seconds = best_of(report.repeat, lambda: fresh_load(session))
    report.emit("load_inventory", seconds)
    return inventory


def run_scaling(args: argparse.Namespace, out: TextIO, workdir: Path) -> None:
    timings = []
    for vendors in SCALING_VENDORS:
        sizes = {
            "vendors": vendors,
            "credentials": 5 * vendors,
            "systems": 2_000,
            "links": 500,
            "stored": args.stored,
            "new_edges": args.new_edges,
        }
        with portfolio_database(args.database_url, workdir, str(vendors)) as session:
            report = Report(out, sizes | {"database": db.engine.dialect.name}, args.repeat)
            inventory = portfolio(report, session, sizes, args.seed)
            progress(f"engine: every vendor of {vendors}")
            _, seconds = measure_all_vendors(report, inventory, args.nx_sample or 1000, args.seed)
            timings.append((sizes, seconds))
            del inventory
    for (small, before), (large, after) in itertools.pairwise(timings):
        size_factor = large["vendors"] / small["vendors"]
        time_factor = after / before
        line = {
            "name": "scaling_all_vendors",
            "sizes": {"from": small, "to": large},
            "seconds_from": _round(before),
            "seconds_to": _round(after),
            "size_factor": round(size_factor, 2),
            "time_factor": round(time_factor, 2),
            "time_factor_per_size_factor": round(time_factor / size_factor, 2),  # 1: linear
        }
        print(json.dumps(line), file=out, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--credentials", type=int, default=50_000)
    parser.add_argument("--systems", type=int, default=2_000)
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument(
        "--stored",
        type=float,
        default=0.05,
        help="fraction of credentials with a copy stored in a system (lateral edges)",
    )
    parser.add_argument(
        "--without-new-edges",
        dest="new_edges",
        action="store_false",
        help="the portfolio as before issue 14, row for row: no federation, systems run by "
        "vendors, vendor software, network zones, session tokens or named fourth parties",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database (emptied again afterwards); default: a new SQLite file",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--skip-networkx",
        action="store_true",
        help="time the engine, the pages and the portfolio only (networkx takes minutes at "
        "50,000 vendors)",
    )
    parser.add_argument(
        "--nx-sample",
        type=int,
        default=0,
        help="time networkx on this many random vendors and extrapolate (0: every vendor; "
        "--scaling uses 1000 unless told)",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="all vendors at 1,000, 10,000 and 50,000 vendors (credentials x5, 2,000 systems)",
    )
    args = parser.parse_args(argv)
    out = sys.stdout
    # Only measurements on stdout: anything else that prints (libraries, the app) goes to stderr.
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        (run_scaling if args.scaling else run)(args, out, Path(tmp))


if __name__ == "__main__":
    main()

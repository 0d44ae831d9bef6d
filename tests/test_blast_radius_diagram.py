"""The blast-radius diagram: a breach drawn in layers, both views of the engine at once (solid
where the attacker gets through despite the controls, dashed where only if they fail, a named
marker where a barrier held), every path in its table. Pure on hand-built inventories, then on
the demo vendor's page and in a PDF."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from conftest import login_as, text
from defusedxml.ElementTree import fromstring
from jinja2 import Environment, FileSystemLoader, select_autoescape

import vendor_risk
from vendor_risk.core.blast_radius.engine import (
    Credential,
    DataCategory,
    Federation,
    Holding,
    Inventory,
    NetworkZone,
    SoftwareSupply,
    SubprocessorLink,
    System,
    Vendor,
    compute,
)
from vendor_risk.db import db
from vendor_risk.models import Role
from vendor_risk.reports import data
from vendor_risk.reports import diagram as diagrams
from vendor_risk.reports.charts import TONES, contrast, text_colour_on
from vendor_risk.reports.diagram import (
    BARRIER_COLOUR,
    CROSSED_COLOUR,
    IF_FAIL_COLOUR,
    NO_GRAPHVIZ,
    TEXT_ON_TONE,
    blast_radius_diagram,
)
from vendor_risk.services import demo

SVG = "{http://www.w3.org/2000/svg}"
# Graphviz is an optional system package: without dot, the drawing is a note (tested below).
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason=NO_GRAPHVIZ)
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
ACME = Vendor(1, "Acme Support", (Holding(3, 120),))
PII = DataCategory(1, "customer PII", 4)
HR = DataCategory(2, "HR records", 3)
DOCS = DataCategory(3, "internal docs", 2)
WIKI = System(1, "Wiki", holdings=(Holding(1, 5000),))
CONSOLE = System(2, "Admin console")
LEDGER = System(3, "Ledger", holdings=(Holding(2, 300),))


def small_breach():
    """Acme holds a machine token into the wiki (nothing stops it) and an admin login to the
    console, where MFA holds; a token stored in the console opens the ledger, so the ledger
    falls only if the controls fail. Acme also keeps internal docs itself."""
    credentials = [
        Credential(id=1, name="svc-wiki", kind="service_account", holder_vendor_id=1, system_id=1),
        Credential(
            id=2,
            name="console-admin",
            kind="user_account",
            holder_vendor_id=1,
            system_id=2,
            privilege="admin",
            interactive=True,
            mfa_enforced=True,
        ),
        Credential(id=3, name="ledger-token", kind="api_token", system_id=3, stored_in=(2,)),
    ]
    inventory = Inventory.build(
        vendors=[ACME],
        systems=[WIKI, CONSOLE, LEDGER],
        credentials=credentials,
        categories=[PII, HR, DOCS],
    )
    return compute(inventory, [1], as_of=AS_OF)


def parse(chart) -> Element:
    return fromstring(str(chart.svg))


def texts(chart) -> list[str]:
    return [t.text or "" for t in parse(chart).iter(f"{SVG}text")]


def strokes(chart) -> list[tuple[str | None, str | None]]:
    """(stroke colour, dash pattern) of every line drawn."""
    return [(p.get("stroke"), p.get("stroke-dasharray")) for p in parse(chart).iter(f"{SVG}path")]


@needs_dot
def test_every_reached_node_is_drawn_and_named():
    chart = blast_radius_diagram(small_breach())
    shown = set(texts(chart))
    assert {"Acme Support", "svc-wiki", "console-admin", "ledger-token"} <= shown
    assert {
        "Wiki",
        "Admin console",
        "Ledger",
        "customer PII",
        "HR records",
        "internal docs",
    } <= shown
    tooltips = {t.text for t in parse(chart).iter(f"{SVG}title")}
    assert "svc-wiki (service account, read)" in tooltips
    assert "Ledger (read access); reached only if the controls fail" in tooltips
    assert "customer PII (critical sensitivity, 5,000 records)" in tooltips


@needs_dot
def test_layers_run_left_to_right_by_hop():
    root = parse(blast_radius_diagram(small_breach()))
    x = {t.text: float(t.get("x")) for t in root.iter(f"{SVG}text")}
    assert x["Acme Support"] < x["svc-wiki"] == x["console-admin"] < x["Wiki"] == x["Admin console"]
    assert x["Admin console"] < x["ledger-token"] < x["Ledger"] < x["customer PII"]
    assert x["customer PII"] == x["HR records"] == x["internal docs"]  # the data, last


@needs_dot
def test_a_barrier_that_held_is_a_named_marker_on_a_dotted_edge():
    chart = blast_radius_diagram(small_breach())
    assert "MFA held" in texts(chart)
    lines = strokes(chart)
    assert any(colour == BARRIER_COLOUR and dash for colour, dash in lines)
    # The held edge ends in a bar (a "tee" arrowhead), its label beside it, in green.
    held = edge_group(chart, "console-admin to Admin console: MFA held")
    assert [p for p in held.iter(f"{SVG}polygon") if p.get("fill") == BARRIER_COLOUR]
    assert [t.get("fill") for t in held.iter(f"{SVG}text")] == [BARRIER_COLOUR]
    assert "1 barrier held: console-admin into Admin console (MFA)." in chart.description


@needs_dot
def test_paths_despite_the_controls_are_solid_and_the_others_dashed():
    chart = blast_radius_diagram(small_breach())
    lines = strokes(chart)
    assert (CROSSED_COLOUR, None) in lines  # Acme -> svc-wiki -> Wiki: solid
    assert any(colour == IF_FAIL_COLOUR and dash for colour, dash in lines)  # -> Ledger
    legend = set(texts(chart))
    assert {
        "solid red line: crossed despite the controls",
        "dashed grey line: only if the controls fail",
        "dotted green line ending in a bar: a barrier held",
    } <= legend
    # Edge by edge: the way in despite the controls is solid, the rest dashed.
    for tip in ("Acme Support to svc-wiki", "svc-wiki to Wiki", "Wiki to customer PII"):
        line = edge_group(chart, f"{tip}: reached despite the controls").find(f"{SVG}path")
        assert (line.get("stroke"), line.get("stroke-dasharray")) == (CROSSED_COLOUR, None), tip
    for tip in ("Admin console to ledger-token", "ledger-token to Ledger", "Ledger to HR records"):
        line = edge_group(chart, f"{tip}: only if the controls fail").find(f"{SVG}path")
        assert line.get("stroke") == IF_FAIL_COLOUR and line.get("stroke-dasharray"), tip
    assert chart.description.startswith(
        "If Acme Support is breached, an attacker reaches 1 system and 2 data categories "
        "despite the controls (solid red lines), and 3 systems if the controls fail"
    )


def test_the_table_lists_every_path_with_what_happened():
    chart = blast_radius_diagram(small_breach())
    assert chart.columns == ("From", "Via", "To", "Outcome")
    assert set(chart.rows) == {
        (
            "Acme Support",
            "svc-wiki (service account, read)",
            "Wiki",
            "reached despite the controls",
        ),
        ("Acme Support", "console-admin (user account, admin)", "Admin console", "held: MFA"),
        ("Acme Support", "holds", "internal docs", "reached despite the controls"),
        ("Wiki", "holds", "customer PII", "reached despite the controls"),
        (
            "Admin console",
            "ledger-token (access token, read)",
            "Ledger",
            "only if the controls fail",
        ),
        ("Ledger", "holds", "HR records", "only if the controls fail"),
    }
    assert chart.rows[0][0] == "Acme Support"  # the breached vendor's paths first


@needs_dot
def test_the_diagram_is_an_svg_a_strict_csp_accepts_and_the_same_twice():
    blast = small_breach()
    chart = blast_radius_diagram(blast)
    root = parse(chart)
    assert not [e for e in root.iter() if "style" in e.attrib]
    assert not list(root.iter(f"{SVG}style"))
    assert root[0].text == "Blast radius of a breach of Acme Support"
    assert root[1].text == chart.description
    assert root.get("role") == "img"
    diagrams.cache_clear()
    assert str(blast_radius_diagram(blast).svg) == str(chart.svg)


@needs_dot
def test_the_same_breach_computed_again_later_is_drawn_once():
    first = blast_radius_diagram(small_breach())
    again = dataclasses.replace(small_breach(), as_of=datetime(2026, 6, 1, tzinfo=UTC))
    drawn = blast_radius_diagram(again)
    assert drawn.svg is first.svg  # laid out once: the same drawing, not drawn again
    assert drawn == first


@needs_dot
def test_a_vendor_holding_nothing_gives_a_valid_diagram_saying_so():
    inventory = Inventory.build(vendors=[Vendor(7, "Quiet Ltd")])
    chart = blast_radius_diagram(compute(inventory, [7], as_of=AS_OF))
    assert "No data" in chart.description and "reaches nothing" in chart.description
    assert "Quiet Ltd" in texts(chart)
    assert chart.rows == ()


@needs_dot
def test_past_max_nodes_the_most_telling_paths_stay_and_the_rest_is_counted():
    # 30 systems, one credential each: three admin ones, and one system with critical data.
    systems = [System(n, f"S{n}") for n in range(1, 30)]
    systems.append(System(30, "S30", holdings=(Holding(1, 10),)))
    credentials = [
        Credential(
            id=n,
            name=f"c{n}",
            kind="service_account",
            holder_vendor_id=1,
            system_id=n,
            privilege="admin" if n <= 3 else "read",
        )
        for n in range(1, 31)
    ]
    inventory = Inventory.build(
        vendors=[Vendor(1, "Big")], systems=systems, credentials=credentials, categories=[PII]
    )
    chart = blast_radius_diagram(compute(inventory, [1], as_of=AS_OF), max_nodes=10)
    shown = set(texts(chart))
    assert {"Big", "c30", "S30", "customer PII", "S1", "S2", "S3"} <= shown  # data, then admin
    assert "S10" not in shown and "c10" not in shown
    assert chart.description.endswith(
        "26 more systems and 26 more credentials not drawn, see the lists."
    )
    assert any(t.startswith("26 more systems") for t in texts(chart))
    assert len(chart.rows) == 31  # the table keeps every path


@needs_dot
def test_a_chain_of_a_thousand_stored_credentials_draws_what_fits_and_counts_the_rest():
    systems = [System(n, f"S{n}") for n in range(1_000)]
    credentials = [
        Credential(
            id=n,
            name=f"k{n}",
            kind="ssh_key",
            holder_vendor_id=1 if n == 0 else None,
            system_id=n,
            stored_in=() if n == 0 else (n - 1,),
        )
        for n in range(1_000)
    ]
    inventory = Inventory.build(
        vendors=[Vendor(1, "Chain")], systems=systems, credentials=credentials
    )
    chart = blast_radius_diagram(compute(inventory, [1], as_of=AS_OF), max_nodes=20)
    shown = set(texts(chart))
    # The first hops, whole: a path is drawn entirely or not at all.
    assert {"Chain", "k0", "S0", "k8", "S8"} <= shown and "S9" not in shown
    assert chart.description.endswith(
        "991 more systems and 991 more credentials not drawn, see the lists."
    )
    # The table lists the first 200 paths in the order drawn, then counts the rest.
    assert len(chart.rows) == 201
    assert chart.rows[-1] == ("800 more paths not listed: see the lists", "", "", "")


def test_a_breach_of_a_subprocessor_alone_says_what_it_exposes():
    inventory = Inventory.build(
        vendors=[Vendor(1, "Payroll", (Holding(1, 400),)), Vendor(2, "Cloud host")],
        categories=[PII],
        links=[SubprocessorLink(1, 2, (1,))],
    )
    chart = blast_radius_diagram(compute(inventory, [2], as_of=AS_OF))
    assert chart.description == (
        "Cloud host holds none of our credentials or data. Through subprocessors, the breach "
        "exposes 1 data category (not drawn, see the lists). No data."
    )


def edge_group(chart, tip: str) -> Element:
    """The SVG group of the edge whose tooltip is ``tip``."""
    for group in parse(chart).iter(f"{SVG}g"):
        if len(group) and group[0].tag == f"{SVG}title" and group[0].text == tip:
            return group
    raise AssertionError(f"no edge {tip!r}")


def drawn_labels(svg: Element) -> dict[str, str]:
    """Tooltip -> the label drawn under the node, its lines joined (spaces dropped)."""
    return {
        group[0].text: "".join(t.text for t in group.iter(f"{SVG}text")).replace(" ", "")
        for group in svg.iter(f"{SVG}g")
        if len(group) and group[0].tag == f"{SVG}title" and group.find(f"{SVG}text") is not None
    }


@needs_dot
def test_a_long_name_is_wrapped_whole_in_the_drawing_and_in_the_tooltip():
    name = "Bitbucket (self-hosted source control for every product team)"
    inventory = Inventory.build(
        vendors=[Vendor(1, "Acme")],
        systems=[System(1, name)],
        credentials=[
            Credential(id=1, name="svc-bb", kind="service_account", holder_vendor_id=1, system_id=1)
        ],
    )
    chart = blast_radius_diagram(compute(inventory, [1], as_of=AS_OF))
    label = drawn_labels(parse(chart))[f"{name} (read access)"]
    assert label == name.replace(" ", "")  # every word, on several lines, nothing cut
    assert {"Bitbucket (self-hosted", "source control for every", "product team)"} <= set(
        texts(chart)
    )


@needs_dot
def test_the_diagram_in_a_pdf_keeps_its_labels_as_text():
    pypdf = pytest.importorskip("pypdf")
    weasyprint = pytest.importorskip("weasyprint")
    chart = blast_radius_diagram(small_breach())
    env = Environment(
        loader=FileSystemLoader(Path(vendor_risk.__file__).parent / "templates"),
        autoescape=select_autoescape(),
    )
    page = env.from_string(
        '<html><body>{% from "_chart.html" import chart %}{{ chart(c) }}</body></html>'
    ).render(c=chart)
    pdf = weasyprint.HTML(string=page).write_pdf()
    words = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for label in ("Acme Support", "svc-wiki", "console-admin", "Ledger", "MFA held"):
        assert label in words


# ---- on the vendor's page --------------------------------------------------------------------


@needs_dot
def test_the_demo_vendor_page_shows_the_four_credentials_and_the_mfa_that_held(
    app, client, make_user
):
    with app.app_context():
        vendor_id = demo.load_inventory(db.session)[demo.IDENTITY_PROVIDER]
        db.session.commit()
    login_as(client, make_user(Role.risk_officer))
    response = client.get(f"/inventory/vendors/{vendor_id}/blast-radius")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    figure = re.search(r'<figure class="chart">.*?</figure>', page, re.S)
    assert figure, "no diagram on the page"
    # Above the lists.
    assert page.index('<figure class="chart">') < page.index("Systems reached despite the controls")
    svg = fromstring(re.search(r"<svg .*?</svg>", figure[0], re.S)[0])
    # At its natural size, never shrunk to the column: wider than the column, it scrolls
    # sideways in a region the keyboard reaches.
    region = re.search(
        r'<div class="chart-scroll" tabindex="0" role="region" aria-label="([^"]*)"><svg ',
        figure[0],
    )
    assert region and region[1].startswith("Blast radius of a breach of Keystone Identity")
    assert float(svg.get("width")) > 72 * 16  # the demo's breach: wider than the 72rem column
    shown = {t.text for t in svg.iter(f"{SVG}text")}
    assert {"MFA held"} <= shown and any("phishing-resistant" in t for t in shown)
    labels = {tip.split(" (")[0]: label for tip, label in drawn_labels(svg).items()}
    for name in (
        "atlassian-automation-token",
        "svc-worktracker",
        "svc-bitbucket",
        "svc-cloud-sandbox",
    ):
        assert labels[name] == name, name  # on one or two lines
    drawn = set(drawn_labels(svg).values())
    for system in (
        "Confluence (self-hosted wiki)",
        "Jira (self-hosted ticketing)",
        "Bitbucket (self-hosted source control)",
    ):
        assert system.replace(" ", "") in drawn, system  # whole, not "Confluence (self-..."
    table = text(response)
    for name, system in (
        ("atlassian-automation-token", "Confluence (self-hosted wiki)"),
        ("svc-worktracker", "Jira (self-hosted ticketing)"),
        ("svc-bitbucket", "Bitbucket (self-hosted source control)"),
    ):
        assert re.search(
            rf"<th scope=\"row\">Keystone Identity</th>\s*<td>{name} \([^)]*\)</td>\s*"
            rf"<td>{re.escape(system)}</td>\s*<td>reached despite the controls</td>",
            table,
        ), name
    assert "<td>held: MFA</td>" in table and "<td>held: phishing-resistant MFA</td>" in table
    assert 'Data for "Blast radius of a breach of Keystone Identity" as a table' in table
    assert "style=" not in figure[0]


@needs_dot
def test_a_pdf_can_ask_for_the_width_it_prints():
    wide = parse(blast_radius_diagram(small_breach()))
    assert int(wide.get("width")) > 672  # left to right, wider than A4 prints
    narrow = parse(blast_radius_diagram(small_breach(), width=7.0))
    assert int(narrow.get("width")) <= 672  # 7 inches of CSS pixels at most
    # Top to bottom on the narrow page: the vendor above its credentials, the data last.
    y = {t.text: float(t.get("y")) for t in narrow.iter(f"{SVG}text")}
    assert y["Acme Support"] < y["svc-wiki"] < y["Wiki"] < y["customer PII"]
    assert y["Admin console"] < y["ledger-token"] < y["Ledger"] < y["HR records"]


def test_a_data_node_s_text_reads_on_its_sensitivity_colour():
    for tone, ink in TEXT_ON_TONE.items():
        assert ink == text_colour_on(TONES[tone]) and contrast(ink, TONES[tone]) >= 4.5, tone


HOSTILE = (
    "<B>x</B>",
    "\"quoted\" & 'single'",
    "back\\slash\\",
    "\\N \\G \\L",
    "two\nlines\there",
    "javascript:alert(1)",
    "&lt;i&gt; &amp; <script>alert(1)</script>",
)


@needs_dot
def test_hostile_names_are_drawn_as_their_text_and_the_svg_stays_well_formed():
    systems = [System(n, name) for n, name in enumerate(HOSTILE, start=1)]
    credentials = [
        Credential(id=n, name=f"{name} key", kind="api_token", holder_vendor_id=1, system_id=n)
        for n, name in enumerate(HOSTILE, start=1)
    ]
    inventory = Inventory.build(
        vendors=[Vendor(1, '<Evil> "Vendor" \\N')], systems=systems, credentials=credentials
    )
    for width in (None, 4.0):  # left to right, and top to bottom
        chart = blast_radius_diagram(compute(inventory, [1], as_of=AS_OF), width=width)
        root = parse(chart)  # well-formed, or this raises
        assert not [e for e in root.iter() if "style" in e.attrib or e.tag == f"{SVG}script"]
        assert not [
            e for e in root.iter() if any(v.startswith("javascript") for v in e.attrib.values())
        ]
        labels = drawn_labels(root)
        assert labels['<Evil> "Vendor" \\N (breached vendor)'] == '<Evil>"Vendor"\\N'
        for name in HOSTILE:
            # Exactly the name's text (whitespace runs made one space, lines wrapped).
            assert labels[f"{name} (read access)"] == "".join(name.split()), name
            assert labels[f"{name} key (access token, read)"] == "".join(name.split()) + "key"


def test_without_graphviz_the_diagram_is_a_note_and_the_table_stays(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot there
    diagrams.cache_clear()
    chart = blast_radius_diagram(small_breach())
    assert str(chart.svg) == f'<p class="chart-note">{NO_GRAPHVIZ}</p>'
    assert chart.description.startswith("If Acme Support is breached")
    assert len(chart.rows) == 6
    monkeypatch.undo()
    if shutil.which("dot"):  # not cached: once dot is there, the next view draws
        assert str(blast_radius_diagram(small_breach()).svg).startswith("<svg")


def test_a_dot_that_hangs_is_stopped_by_the_timeout(monkeypatch, tmp_path):
    dot = tmp_path / "dot"
    dot.write_text("#!/bin/sh\nexec sleep 30\n")
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")  # this dot first
    monkeypatch.setattr(diagrams.drawing, "TIMEOUT", 0.5)
    diagrams.cache_clear()
    chart = blast_radius_diagram(small_breach())
    assert str(chart.svg) == f'<p class="chart-note">{diagrams.drawing.TOO_SLOW}</p>'
    assert len(chart.rows) == 6


def test_without_graphviz_the_vendor_page_still_answers(
    app, client, make_user, monkeypatch, tmp_path
):
    with app.app_context():
        vendor_id = demo.load_inventory(db.session)[demo.IDENTITY_PROVIDER]
        db.session.commit()
    login_as(client, make_user(Role.risk_officer))
    monkeypatch.setenv("PATH", str(tmp_path))
    diagrams.cache_clear()
    response = client.get(f"/inventory/vendors/{vendor_id}/blast-radius")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert NO_GRAPHVIZ in page and "<svg" not in page.split("Systems reached despite")[0]
    assert "Systems reached despite the controls" in page
    assert 'Data for "Blast radius of a breach of Keystone Identity" as a table' in page


def links_breach():
    """Keystone (an identity provider's vendor) holds the admin of our identity provider, which
    the wiki trusts for sign-in and the CRM too (with its own MFA, which holds); Keystone also
    operates the ticket desk and supplies the agent on the build server, whose updates we
    approve; the wiki sits in the corporate zone with the HR server, which wants its own sign-in.
    """
    idp, wiki, crm, desk, build, hr = 1, 2, 3, 4, 5, 6
    corporate = NetworkZone(1, "Corporate")
    inventory = Inventory.build(
        vendors=[Vendor(1, "Keystone")],
        systems=[
            System(idp, "Identity provider"),
            System(wiki, "Wiki", holdings=(Holding(DOCS.id, 40),), zone_ids=(corporate.id,)),
            System(crm, "CRM"),
            System(desk, "Ticket desk", operator_vendor_id=1, holdings=(Holding(PII.id, 9000),)),
            System(build, "Build server"),
            System(hr, "HR server", zone_ids=(corporate.id,), holdings=(Holding(HR.id, 300),)),
        ],
        credentials=[
            Credential(
                id=1,
                name="idp-admin",
                kind="sso_admin",
                holder_vendor_id=1,
                system_id=idp,
                privilege="admin",
            )
        ],
        categories=[PII, HR, DOCS],
        federations=[
            Federation(idp, wiki, privilege="write"),
            Federation(idp, crm, privilege="admin", mfa_enforced=True),
        ],
        software=[SoftwareSupply(build, 1, privilege="admin", automatic_updates=False)],
        zones=[corporate],
    )
    return compute(inventory, [1], as_of=AS_OF)


def test_edges_without_a_credential_are_in_the_table_with_what_happened():
    chart = blast_radius_diagram(links_breach())
    rows = {(source, via, target): outcome for source, via, target, outcome in chart.rows}
    assert rows[("Identity provider", "single sign-on", "Wiki")] == "reached despite the controls"
    assert rows[("Identity provider", "single sign-on", "CRM")] == "held: MFA"
    assert rows[("Keystone", "operates it", "Ticket desk")] == "reached despite the controls"
    assert rows[("Keystone", "its software runs there", "Build server")] == (
        "held: updates we approve"
    )
    assert rows[("Wiki", "network", "HR server")] == "held: its own sign-in"
    assert rows[("Ticket desk", "holds", "customer PII")] == "reached despite the controls"
    assert "Keystone to Build server (updates we approve)" in chart.description
    assert "Wiki to HR server (its own sign-in)" in chart.description


@needs_dot
def test_edges_without_a_credential_are_drawn_named_in_both_views():
    chart = blast_radius_diagram(links_breach())
    shown = texts(chart)
    for words in ("single sign-on", "operates it", "update approval", "own sign-in"):
        assert any(words in t for t in shown), words
    drawn = set(drawn_labels(parse(chart)).values())
    assert {"Wiki", "CRM", "Ticketdesk", "Buildserver", "HRserver"} <= drawn
    # The sign-in to the wiki and the desk Keystone operates are solid red; the held ones are
    # the barrier's dotted green.
    assert (CROSSED_COLOUR, None) in strokes(chart)
    assert any(colour == BARRIER_COLOUR for colour, _ in strokes(chart))
    assert "style=" not in str(chart.svg)


def test_the_report_lists_the_links_a_control_held_beside_the_barriers():
    summary = data.blast_summary(links_breach())
    assert summary.links_held == (
        "Build server runs software supplied by Keystone: updates we approve",
        "CRM trusts Identity provider for sign-in: its own MFA",
        "Wiki can connect to HR server: it wants its own sign-in",
    )

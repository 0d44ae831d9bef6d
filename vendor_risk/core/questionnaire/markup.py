"""The small HTML subset a questionnaire's texts may carry (docs/questionnaire-format.md, "Text
and markup"). Texts come from files written elsewhere (VSAQ imports carry arbitrary HTML) and
are shown to vendor contacts and staff, so everything else is removed once, when loaded.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = frozenset({"a", "b", "strong", "i", "em", "code", "br", "p", "ul", "ol", "li"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
# A link's href is kept only with one of those schemes, written out: a relative link would
# point into this app, where a question has no business sending anyone.
_ABSOLUTE_LINK = re.compile(r"(?:https?|mailto):", re.IGNORECASE)


def _keep_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if _ABSOLUTE_LINK.match(value.strip()) else None
    return value


def sanitise(text: str) -> str:
    """``text`` as safe HTML: only the allowed tags, links with http, https or mailto and
    ``rel="noopener noreferrer"``; scripts and styles removed with their content; the rest
    of the text escaped. Applying it again changes nothing."""
    return nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={"a": {"href"}},
        attribute_filter=_keep_absolute_links,
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# Where a tag ends a line of text; the sanitiser writes tags in this one spelling.
_LINE_BREAKS = re.compile(r"<br>|</p>|</li>")
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def _link_as_text(match: re.Match[str]) -> str:
    target, label = html.unescape(match[1]).strip(), match[2]
    shown = target.removeprefix("mailto:")
    return label if html.unescape(label).strip() in (target, shown) else f"{label} ({shown})"


def plain(text: str) -> str:
    """``text`` without any markup, for places that show no HTML (spreadsheets, plain-text
    mail): line breaks where paragraphs and items end, a link's target after its label, and
    characters unescaped. The result is text, not HTML: escape it wherever HTML is made."""
    safe = _LINK.sub(_link_as_text, sanitise(text))
    bare = nh3.clean(_LINE_BREAKS.sub("\n", safe), tags=set())
    lines = (line.strip() for line in html.unescape(bare).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

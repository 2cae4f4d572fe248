"""HTML: the visible text, with headings written as Markdown markers so the heading chunker sees them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stratus.ingest.detect import HTML
from stratus.ingest.markdown import find_headings
from stratus.ingest.models import ParsedDocument, ParsedPage
from stratus.ingest.text import decode_text, normalise_layout_text, title_from_filename

if TYPE_CHECKING:
    from bs4.element import Tag

_INVISIBLE_TAGS = [
    "script",
    "style",
    "nav",
    "noscript",
    "template",
    "head",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "button",
    "select",
    "datalist",
]
_HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "blockquote",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "figure",
        "figcaption",
        "address",
        "form",
        "fieldset",
        "details",
        "summary",
        "caption",
        "body",
        "html",
    ]
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_SPACES_AROUND_NEWLINES = re.compile(r"[ \t]*\n[ \t]*")
# Preformatted blocks are set aside during whitespace cleanup and put back verbatim.
_PRE_PLACEHOLDER = "\x00{}\x00"
_PRE_PLACEHOLDER_PATTERN = re.compile(r"\x00(\d+)\x00")


def _inline(text: str) -> str:
    return _WHITESPACE.sub(" ", text)


def _is_hidden(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return (
        tag.has_attr("hidden")
        or str(tag.get("aria-hidden") or "").lower() == "true"
        or "display:none" in style
        or "visibility:hidden" in style
    )


@dataclass(frozen=True, slots=True)
class _Break:
    """Newlines the output must end with before what follows; repeated breaks do not add up."""

    newlines: int


class _TextRenderer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.preformatted: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def ensure_break(self, newlines: int) -> None:
        present = 0
        for part in reversed(self.parts):
            content = part.rstrip(" ")
            trailing = len(content) - len(content.rstrip("\n"))
            present += trailing
            if trailing < len(content):
                break
        else:
            return  # nothing written yet: no leading blank lines
        self.parts.append("\n" * max(0, newlines - present))

    def write_preformatted(self, text: str) -> None:
        self.preformatted.append(text)
        self.ensure_break(2)
        self.write(f"```\n{_PRE_PLACEHOLDER.format(len(self.preformatted) - 1)}\n```")
        self.ensure_break(2)

    def render(self) -> str:
        text = _SPACES_AROUND_NEWLINES.sub("\n", "".join(self.parts)).strip()
        return _PRE_PLACEHOLDER_PATTERN.sub(lambda match: self.preformatted[int(match.group(1))], text)


def _visible_text(root: Tag) -> str:
    """Walk the tree without recursion (deeply nested pages exist) and render text with block breaks."""
    from bs4.element import NavigableString, PreformattedString, Tag

    out = _TextRenderer()
    list_counters: dict[int, int] = {}
    stack: list[Tag | NavigableString | _Break] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, _Break):
            out.ensure_break(node.newlines)
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):
                out.write(_inline(str(node)))
            continue
        name = node.name
        if name in _HEADING_LEVELS:
            title = _inline(node.get_text(" ")).strip()
            if title:
                out.ensure_break(2)
                out.write(f"{'#' * _HEADING_LEVELS[name]} {title}")
                out.ensure_break(2)
            continue
        if name == "pre":
            out.write_preformatted(node.get_text().strip("\n"))
            continue
        if name == "br":
            out.write("\n")
            continue
        if name == "hr":
            out.ensure_break(2)
            continue
        after: _Break | None = None
        if name == "li":
            out.ensure_break(1)
            parent = node.parent
            if parent is not None and parent.name == "ol":
                list_counters[id(parent)] = list_counters.get(id(parent), 0) + 1
                out.write(f"{list_counters[id(parent)]}. ")
            else:
                out.write("- ")
            after = _Break(1)
        elif name == "tr":
            out.ensure_break(1)
            after = _Break(1)
        elif name in ("td", "th"):
            if node.find_previous_sibling(["td", "th"]) is not None:
                out.write(" | ")
        elif name in _BLOCK_TAGS:
            out.ensure_break(2)
            after = _Break(2)
        if after is not None:
            stack.append(after)
        stack.extend(child for child in reversed(node.contents) if isinstance(child, (Tag, NavigableString)))
    return out.render()


def _decode_html(data: bytes, charset: str | None) -> str:
    declared = _META_CHARSET.search(data[:2048])
    hint = charset or (declared.group(1).decode("ascii").lower() if declared else None)
    return decode_text(data, hint)


def parse_html(data: bytes, filename: str | None, charset: str | None = None) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_html(data, charset), "html.parser")
    title_tag = soup.find("title")
    title = _inline(title_tag.get_text()).strip() if title_tag is not None else ""
    for tag in soup.find_all(_INVISIBLE_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        if not tag.decomposed:
            tag.decompose()
    text = normalise_layout_text(_visible_text(soup))
    headings = tuple(find_headings(text))
    if not title:
        title = next((heading.title for heading in headings if heading.level == 1), "")
    return ParsedDocument(
        content_type=HTML,
        title=title or title_from_filename(filename),
        pages=[ParsedPage(1, text, headings)],
        metadata={},
    )

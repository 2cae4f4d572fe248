"""Markdown: mdBook directives and HTML comments stripped, headings located for the heading chunker."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stratus.ingest.detect import MARKDOWN
from stratus.ingest.models import Heading, ParsedDocument, ParsedPage
from stratus.ingest.text import decode_text, normalise_layout_text, title_from_filename

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(={3,}|-{3,})[ \t]*$")
_NOT_PARAGRAPH_TEXT = re.compile(r"^\s*(?:[-*+>|]|\d+[.)]\s|#|`{3}|~{3})")
# mdBook preprocessor directives: their target files are not part of the document, so the line
# would only index a file path.
_DIRECTIVE_LINE = re.compile(r"^[ \t]*\{\{#[a-z_]+\b[^}]*\}\}[ \t]*$")
_DIRECTIVE_INLINE = re.compile(r"\{\{#[a-z_]+\b[^}]*\}\}")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Fence:
    marker: str

    def closes(self, line: str) -> bool:
        match = _FENCE.match(line)
        return (
            match is not None
            and match.group(1)[0] == self.marker[0]
            and len(match.group(1)) >= len(self.marker)
            and not line[match.end() :].strip()
        )


def find_headings(text: str) -> list[Heading]:
    """ATX headings (``## Title``) and setext headings (3+ ``=`` or ``-`` underneath), outside code fences."""
    headings: list[Heading] = []
    fence: _Fence | None = None
    offset = 0
    previous: tuple[int, str] | None = None  # start and text of the previous line, if it can be a title
    previous_blank = True
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        if fence is not None:
            if fence.closes(line):
                fence = None
            previous, previous_blank = None, False
            continue
        fence_match = _FENCE.match(line)
        if fence_match is not None:
            fence = _Fence(fence_match.group(1))
            previous, previous_blank = None, False
            continue
        atx = _ATX_HEADING.match(line)
        if atx is not None and (atx.group(2) or "").strip():
            headings.append(Heading(len(atx.group(1)), atx.group(2).strip(), start, end))
            previous, previous_blank = None, False
            continue
        setext = _SETEXT_UNDERLINE.match(line)
        if setext is not None and previous is not None:
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append(Heading(level, previous[1].strip(), previous[0], end))
            previous, previous_blank = None, False
            continue
        blank = not line.strip()
        can_be_title = not blank and previous_blank and _NOT_PARAGRAPH_TEXT.match(line) is None
        previous = (start, line) if can_be_title else None
        previous_blank = blank
    return headings


def _strip_outside_fences(lines: list[str]) -> tuple[list[str], int, int]:
    """Drop directive lines (and fences they leave empty) and HTML comments outside code."""
    kept: list[str] = []
    prose: list[str] = []
    directives = comments = 0
    fence: _Fence | None = None
    fence_open_at = 0
    fence_had_directive = False

    def flush_prose() -> None:
        nonlocal comments
        if prose:
            joined, removed = _HTML_COMMENT.subn("", "\n".join(prose))
            comments += removed
            kept.extend(joined.split("\n"))
            prose.clear()

    for line in lines:
        if fence is not None:
            if _DIRECTIVE_LINE.match(line):
                directives += 1
                fence_had_directive = True
                continue
            if fence.closes(line):
                fence = None
                if fence_had_directive and all(not body.strip() for body in kept[fence_open_at + 1 :]):
                    del kept[fence_open_at:]
                    continue
            kept.append(line)
            continue
        if _DIRECTIVE_LINE.match(line):
            directives += 1
            continue
        fence_match = _FENCE.match(line)
        if fence_match is not None:
            flush_prose()
            fence = _Fence(fence_match.group(1))
            fence_open_at, fence_had_directive = len(kept), False
            kept.append(line)
            continue
        line, inline = _DIRECTIVE_INLINE.subn("", line)
        directives += inline
        prose.append(line)
    flush_prose()
    return kept, directives, comments


def clean_markdown(text: str) -> tuple[str, dict[str, str | int]]:
    """Normalised Markdown without mdBook directives or HTML comments, and what was removed."""
    lines, directives, comments = _strip_outside_fences(normalise_layout_text(text).split("\n"))
    cleaned = normalise_layout_text("\n".join(lines))
    return cleaned, {"directives_stripped": directives, "comments_stripped": comments}


def parse_markdown(data: bytes, filename: str | None, charset: str | None = None) -> ParsedDocument:
    text, metadata = clean_markdown(decode_text(data, charset))
    headings = tuple(find_headings(text))
    top = min((heading.level for heading in headings), default=None)
    title = next((heading.title for heading in headings if heading.level == top), None)
    return ParsedDocument(
        content_type=MARKDOWN,
        title=title or title_from_filename(filename),
        pages=[ParsedPage(1, text, headings)],
        metadata=metadata,
    )

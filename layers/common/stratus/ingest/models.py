"""What parsing produces and what chunking produces: plain immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading line of a page; ``start``/``end`` are character offsets of that line in the page text."""

    level: int
    title: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """One page of text. ``number`` is 1-based; Markdown, HTML and most text files have a single page."""

    number: int
    text: str
    headings: tuple[Heading, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    content_type: str
    title: str | None
    pages: list[ParsedPage]
    metadata: dict[str, str | int] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def char_count(self) -> int:
        return sum(len(page.text) for page in self.pages)

    def has_text(self) -> bool:
        return any(page.text.strip() for page in self.pages)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of one page: ``text == page.text[start_offset:end_offset]`` for the page it names.

    Chunks never cross a page boundary, so ``page`` is the page to cite. Consecutive chunks of a page may
    overlap (their offset ranges intersect) by the chunker's overlap.
    """

    index: int
    text: str
    page: int
    start_offset: int
    end_offset: int
    token_count: int
    heading_path: tuple[str, ...] = ()

    def contextual_text(self) -> str:
        """The text to embed: the heading path as a first line gives a short section its topic."""
        if not self.heading_path:
            return self.text
        return " > ".join(self.heading_path) + "\n\n" + self.text

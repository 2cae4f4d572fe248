"""The ``Chunker`` port and its strategies. Chunks never cross a page, so each cites one page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from stratus.config.ingest import ChunkStrategy, IngestSettings
from stratus.ingest.models import Chunk, Heading, ParsedDocument, ParsedPage
from stratus.ingest.spans import Span, token_spans, window_spans
from stratus.ingest.tokens import Tokenizer, default_tokenizer

MIN_CHUNK_TOKENS = 16


class Chunker(Protocol):
    def chunk(self, document: ParsedDocument) -> list[Chunk]: ...


def _validated(chunk_tokens: int, overlap_tokens: int) -> tuple[int, int]:
    if chunk_tokens < MIN_CHUNK_TOKENS:
        raise ValueError(f"chunk_tokens must be at least {MIN_CHUNK_TOKENS}, got {chunk_tokens}")
    if overlap_tokens < 0 or overlap_tokens * 2 > chunk_tokens:
        raise ValueError(f"overlap_tokens must be between 0 and chunk_tokens / 2, got {overlap_tokens}")
    return chunk_tokens, overlap_tokens


def _numbered(pieces: Iterable[tuple[ParsedPage, Span, tuple[str, ...]]]) -> list[Chunk]:
    return [
        Chunk(
            index=index,
            text=page.text[span.start : span.end],
            page=page.number,
            start_offset=span.start,
            end_offset=span.end,
            token_count=span.tokens,
            heading_path=heading_path,
        )
        for index, (page, span, heading_path) in enumerate(pieces)
    ]


class RecursiveChunker:
    """Structure-aware: paragraphs, then lines, sentences, words, merged up to the token budget.

    A chunk ends at the strongest boundary (paragraph over line over sentence) in its second half and
    the next one repeats up to ``overlap_tokens`` of whole words. Words are cut only when a single word
    is longer than the budget.
    """

    def __init__(self, chunk_tokens: int = 300, overlap_tokens: int = 50, tokenizer: Tokenizer | None = None) -> None:
        self.chunk_tokens, self.overlap_tokens = _validated(chunk_tokens, overlap_tokens)
        self.tokenizer = tokenizer or default_tokenizer()

    def spans(self, text: str, start: int, end: int) -> list[Span]:
        return token_spans(
            text, start, end, budget=self.chunk_tokens, overlap=self.overlap_tokens, tokenizer=self.tokenizer
        )

    def chunk(self, document: ParsedDocument) -> list[Chunk]:
        return _numbered(
            (page, span, ()) for page in document.pages for span in self.spans(page.text, 0, len(page.text))
        )


class FixedTokenChunker:
    """Windows of ``chunk_tokens`` tokens advancing by ``chunk_tokens - overlap_tokens``; may cut words."""

    def __init__(self, chunk_tokens: int = 300, overlap_tokens: int = 50, tokenizer: Tokenizer | None = None) -> None:
        self.chunk_tokens, self.overlap_tokens = _validated(chunk_tokens, overlap_tokens)
        self.tokenizer = tokenizer or default_tokenizer()

    def chunk(self, document: ParsedDocument) -> list[Chunk]:
        return _numbered(
            (page, span, ())
            for page in document.pages
            for span in window_spans(
                page.text, budget=self.chunk_tokens, overlap=self.overlap_tokens, tokenizer=self.tokenizer
            )
        )


def _sections(page: ParsedPage) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, end, heading path) of each section; a heading directly followed by a deeper one joins it."""
    headings = page.headings
    if not headings:
        return [(0, len(page.text), ())]
    sections: list[tuple[int, int, tuple[str, ...]]] = []
    if headings[0].start > 0:
        sections.append((0, headings[0].start, ()))
    path: list[Heading] = []
    pending_start: int | None = None
    for index, heading in enumerate(headings):
        while path and path[-1].level >= heading.level:
            path.pop()
        path.append(heading)
        end = headings[index + 1].start if index + 1 < len(headings) else len(page.text)
        start = heading.start if pending_start is None else pending_start
        heading_only = not page.text[heading.end : end].strip()
        if heading_only and index + 1 < len(headings) and headings[index + 1].level > heading.level:
            pending_start = start
            continue
        pending_start = None
        sections.append((start, end, tuple(item.title for item in path)))
    return sections


class MarkdownHeadingChunker:
    """One section per heading, carrying its heading path; sections over budget are split recursively.

    Uses the headings the parser found (Markdown, HTML); a page without headings is one section.
    """

    def __init__(self, chunk_tokens: int = 300, overlap_tokens: int = 50, tokenizer: Tokenizer | None = None) -> None:
        self._recursive = RecursiveChunker(chunk_tokens, overlap_tokens, tokenizer)

    def chunk(self, document: ParsedDocument) -> list[Chunk]:
        return _numbered(
            (page, span, heading_path)
            for page in document.pages
            for start, end, heading_path in _sections(page)
            for span in self._recursive.spans(page.text, start, end)
        )


def get_chunker(
    strategy: ChunkStrategy | None = None,
    *,
    settings: IngestSettings | None = None,
    chunk_tokens: int | None = None,
    overlap_tokens: int | None = None,
    tokenizer: Tokenizer | None = None,
) -> Chunker:
    """A chunker by name; parameters not given come from ``settings`` (defaults: ``IngestSettings``)."""
    defaults = settings or IngestSettings.model_construct()
    name = strategy or defaults.ingest_chunk_strategy
    budget = defaults.ingest_chunk_tokens if chunk_tokens is None else chunk_tokens
    overlap = defaults.ingest_chunk_overlap_tokens if overlap_tokens is None else overlap_tokens
    if name == "recursive":
        return RecursiveChunker(budget, overlap, tokenizer)
    if name == "fixed":
        return FixedTokenChunker(budget, overlap, tokenizer)
    if name == "markdown":
        return MarkdownHeadingChunker(budget, overlap, tokenizer)
    raise ValueError(f"unknown chunk strategy {name!r}; expected recursive, fixed or markdown")

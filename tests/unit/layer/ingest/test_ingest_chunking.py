"""Chunk invariants, as properties on generated text and on the real documents.

Token budget: every chunk's exact cl100k count is at most ``chunk_tokens`` (no tolerance: spans are
re-counted and shrunk when the sum of their pieces underestimates). Offsets: ``chunk.text`` is exactly
``page.text[start_offset:end_offset]``; consecutive chunks of a page overlap by at most ``overlap_tokens``.
Coverage: every non-whitespace character of every page lies in at least one chunk.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratus.config.ingest import IngestSettings
from stratus.ingest import (
    Chunk,
    Chunker,
    FixedTokenChunker,
    MarkdownHeadingChunker,
    ParsedDocument,
    ParsedPage,
    RecursiveChunker,
    count_tokens,
    get_chunker,
    parse_document,
)
from stratus.ingest.markdown import find_headings

STRATEGIES = ("recursive", "fixed", "markdown")
_NON_SPACE = re.compile(r"\S+")


def assert_chunk_invariants(document: ParsedDocument, chunks: list[Chunk], budget: int, overlap: int) -> None:
    pages = {page.number: page for page in document.pages}
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    covered = {number: bytearray(len(page.text)) for number, page in pages.items()}
    previous: Chunk | None = None
    for chunk in chunks:
        page_text = pages[chunk.page].text
        assert 0 <= chunk.start_offset < chunk.end_offset <= len(page_text)
        assert page_text[chunk.start_offset : chunk.end_offset] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.token_count == count_tokens(chunk.text) <= budget
        covered[chunk.page][chunk.start_offset : chunk.end_offset] = b"\x01" * len(chunk.text)
        if previous is not None:
            assert chunk.page >= previous.page
            if chunk.page == previous.page:
                assert chunk.start_offset > previous.start_offset
                assert chunk.end_offset > previous.end_offset
                if chunk.start_offset < previous.end_offset:
                    assert count_tokens(page_text[chunk.start_offset : previous.end_offset]) <= overlap
        previous = chunk
    for number, page in pages.items():
        lost = [
            word.start() for word in _NON_SPACE.finditer(page.text) if 0 in covered[number][word.start() : word.end()]
        ]
        assert not lost, f"page {number}: text near {lost[:5]} is in no chunk"


def _document(texts: list[str], headings: bool = False) -> ParsedDocument:
    pages = [
        ParsedPage(number, text, tuple(find_headings(text)) if headings else ()) for number, text in enumerate(texts, 1)
    ]
    return ParsedDocument(content_type="text/plain", title=None, pages=pages)


# Text with the structure chunkers care about: paragraphs, lines, sentences, words, headings,
# long words (URLs, hashes), non-ASCII letters, CJK and emoji whose UTF-8 bytes span tokens.
_WORDS = st.one_of(
    st.sampled_from(["the", "HTTP/1.1", "chunk", "naïve", "Ünïcode", "東京", "🙂", "x", "—", "e.g.", "done."]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12),
    st.text(alphabet="abcdef0123456789/-_", min_size=40, max_size=160),  # longer than small budgets
)
_SENTENCES = st.lists(_WORDS, min_size=1, max_size=15).map(lambda words: " ".join(words) + ".")
_LINES = st.lists(_SENTENCES, min_size=1, max_size=3).map(" ".join)
_BLOCKS = st.one_of(
    st.lists(_LINES, min_size=1, max_size=3).map("\n".join),
    _LINES.map(lambda line: "## " + line[:30]),
    _LINES.map(lambda line: "# " + line[:20]),
)
_SEPARATORS = st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\n"])
_PAGE_TEXTS = st.lists(st.tuples(_BLOCKS, _SEPARATORS), min_size=0, max_size=6).map(
    lambda blocks: "".join(block + separator for block, separator in blocks)
)
_ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=400)


@st.composite
def _budgets(draw: st.DrawFn) -> tuple[int, int]:
    budget = draw(st.integers(min_value=16, max_value=80))
    return budget, draw(st.integers(min_value=0, max_value=budget // 2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.one_of(_PAGE_TEXTS, _ANY_TEXT), min_size=1, max_size=3),
    budgets=_budgets(),
    strategy=st.sampled_from(STRATEGIES),
)
def test_chunk_invariants_hold_for_any_text(texts: list[str], budgets: tuple[int, int], strategy: str) -> None:
    # Given
    budget, overlap = budgets
    document = _document(texts, headings=strategy == "markdown")
    chunker = get_chunker(strategy, chunk_tokens=budget, overlap_tokens=overlap)  # type: ignore[arg-type]
    # When
    chunks = chunker.chunk(document)
    # Then
    assert_chunk_invariants(document, chunks, budget, overlap)
    assert chunker.chunk(document) == chunks  # deterministic


@settings(max_examples=40, deadline=None)
@given(text=_PAGE_TEXTS, budgets=_budgets())
def test_recursive_chunks_never_cut_a_word_that_fits_the_budget(text: str, budgets: tuple[int, int]) -> None:
    # Given
    budget, overlap = budgets
    long_words = [word for word in text.split() if count_tokens(word) > budget]
    # When
    chunks = RecursiveChunker(budget, overlap).chunk(_document([text]))
    # Then
    for chunk in chunks:
        start_inside = chunk.start_offset > 0 and not text[chunk.start_offset - 1].isspace()
        end_inside = chunk.end_offset < len(text) and not text[chunk.end_offset].isspace()
        if start_inside or end_inside:
            assert long_words, f"chunk {chunk.index} cuts a word: {chunk.text[:40]!r}"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_rfc2616_chunks_cite_the_right_pages(rfc2616: ParsedDocument, strategy: str) -> None:
    # When
    chunks = get_chunker(strategy).chunk(rfc2616)  # type: ignore[arg-type]
    # Then
    assert_chunk_invariants(rfc2616, chunks, budget=300, overlap=50)
    assert {chunk.page for chunk in chunks} == set(range(1, 177))
    expect = [chunk for chunk in chunks if "The Expect request-header field" in chunk.text]
    assert expect and {chunk.page for chunk in expect} == {126}


def test_recursive_chunks_fill_the_budget_and_end_at_line_breaks(rfc2616: ParsedDocument) -> None:
    # When
    chunks = RecursiveChunker(300, 50).chunk(rfc2616)
    # Then: most chunks are full, and a PDF chunk ends at the end of a line
    full = [chunk for chunk in chunks if chunk.token_count >= 150]
    assert len(full) / len(chunks) > 0.7
    for chunk in chunks:
        page_text = rfc2616.pages[chunk.page - 1].text
        assert chunk.end_offset == len(page_text) or page_text[chunk.end_offset] == "\n"


def test_rust_book_heading_chunks_carry_their_heading_path(documents_dir: Path) -> None:
    # Given
    path = documents_dir / "markdown-rust-book" / "ch04-01-what-is-ownership.md"
    document = parse_document(path.read_bytes(), None, path.name)
    # When
    chunks = MarkdownHeadingChunker(300, 50).chunk(document)
    # Then
    assert_chunk_invariants(document, chunks, budget=300, overlap=50)
    paths = [chunk.heading_path for chunk in chunks]
    assert paths[0] == ("What Is Ownership?",)
    assert ("What Is Ownership?", "Memory and Allocation", "Variables and Data Interacting with Move") in paths
    move = next(chunk for chunk in chunks if chunk.heading_path[-1:] == ("Variables and Data Interacting with Move",))
    assert move.text.startswith("#### Variables and Data Interacting with Move")
    assert move.contextual_text().startswith(
        "What Is Ownership? > Memory and Allocation > Variables and Data Interacting with Move\n\n####"
    )
    # a section never mixes into the next one
    for chunk in chunks:
        headings_inside = [heading for heading in document.pages[0].headings if chunk.start_offset < heading.start]
        assert all(heading.start >= chunk.end_offset for heading in headings_inside)


def test_heading_only_section_joins_its_first_subsection() -> None:
    # Given
    text = "# Guide\n\n## Install\n\nRun the installer.\n\n## Use\n\nAsk a question.\n\n## Empty"
    page = ParsedPage(1, text, tuple(find_headings(text)))
    # When
    chunks = MarkdownHeadingChunker(64, 8).chunk(ParsedDocument("text/markdown", "Guide", [page]))
    # Then
    assert [(chunk.heading_path, chunk.text) for chunk in chunks] == [
        (("Guide", "Install"), "# Guide\n\n## Install\n\nRun the installer."),
        (("Guide", "Use"), "## Use\n\nAsk a question."),
        (("Guide", "Empty"), "## Empty"),
    ]


def test_fixed_windows_overlap_by_the_configured_tokens(rfc2616: ParsedDocument) -> None:
    # When
    chunks = FixedTokenChunker(100, 20).chunk(rfc2616)
    # Then
    assert_chunk_invariants(rfc2616, chunks, budget=100, overlap=20)
    same_page_pairs = [(a, b) for a, b in pairwise(chunks) if a.page == b.page]
    overlaps = [count_tokens(rfc2616.pages[a.page - 1].text[b.start_offset : a.end_offset]) for a, b in same_page_pairs]
    assert sum(1 for tokens in overlaps if 15 <= tokens <= 20) / len(overlaps) > 0.9


def test_recursive_chunker_splits_a_word_longer_than_the_budget() -> None:
    # Given: a 2,000-character token with no whitespace
    text = "see " + "ab12" * 500 + " end"
    # When
    chunks = RecursiveChunker(32, 0).chunk(_document([text]))
    # Then
    assert_chunk_invariants(_document([text]), chunks, budget=32, overlap=0)
    assert "".join(chunk.text for chunk in chunks).replace(" ", "") == text.replace(" ", "")


def test_get_chunker_uses_settings_then_arguments() -> None:
    # Given
    settings = IngestSettings(ingest_chunk_strategy="fixed", ingest_chunk_tokens=200, ingest_chunk_overlap_tokens=20)
    # When
    from_settings = get_chunker(settings=settings)
    overridden = get_chunker("markdown", settings=settings, chunk_tokens=120)
    default: Chunker = get_chunker()
    # Then
    assert isinstance(from_settings, FixedTokenChunker)
    assert (from_settings.chunk_tokens, from_settings.overlap_tokens) == (200, 20)
    assert isinstance(overridden, MarkdownHeadingChunker)
    assert isinstance(default, RecursiveChunker)
    assert (default.chunk_tokens, default.overlap_tokens) == (300, 50)


@pytest.mark.parametrize(
    ("strategy", "chunk_tokens", "overlap_tokens"),
    [("recursive", 8, 0), ("fixed", 100, 60), ("markdown", 100, -1), ("semantic", 100, 10)],
)
def test_get_chunker_rejects_bad_parameters(strategy: str, chunk_tokens: int, overlap_tokens: int) -> None:
    with pytest.raises(ValueError):
        get_chunker(strategy, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens)  # type: ignore[arg-type]


def test_empty_pages_give_no_chunks_and_keep_numbering() -> None:
    # Given
    document = _document(["", "Second page text.", "   \n  "])
    # When
    chunks = RecursiveChunker(32, 4).chunk(document)
    # Then
    assert [(chunk.page, chunk.text) for chunk in chunks] == [(2, "Second page text.")]


@pytest.mark.slow
def test_heading_chunks_hold_the_invariants_on_the_whole_rust_book(documents_dir: Path) -> None:
    # Given
    chunker = MarkdownHeadingChunker(300, 50)
    for path in sorted((documents_dir / "markdown-rust-book").glob("*.md")):
        document = parse_document(path.read_bytes(), None, path.name)
        # When
        chunks = chunker.chunk(document)
        # Then
        assert_chunk_invariants(document, chunks, budget=300, overlap=50)
        headings = document.pages[0].headings
        for chunk in chunks:
            above = [heading for heading in headings if heading.start <= chunk.start_offset]
            if above and chunk.heading_path:
                assert chunk.heading_path[-1] == above[-1].title or chunk.text.startswith("#"), path.name


def test_an_overlap_never_exceeds_its_budget_when_a_character_spans_two_tokens() -> None:
    # Given text whose CJK characters each cost two tokens, and an overlap of one token
    document = _document(["東京 " * 6])
    # When
    chunks = get_chunker("fixed", chunk_tokens=17, overlap_tokens=1).chunk(document)
    # Then the windows overlap by at most one token (here: not at all)
    assert_chunk_invariants(document, chunks, budget=17, overlap=1)

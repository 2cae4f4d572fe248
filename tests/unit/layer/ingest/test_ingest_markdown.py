"""Markdown on the Rust Book corpus: directives and comments stripped on purpose, headings found."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratus.ingest import Heading, parse_document
from stratus.ingest.markdown import find_headings

RUST_BOOK = "markdown-rust-book"


@pytest.fixture(scope="module")
def rust_book(documents_dir: Path) -> list[Path]:
    return sorted((documents_dir / RUST_BOOK).glob("*.md"))


def test_every_mdbook_directive_of_the_rust_book_is_stripped(rust_book: list[Path]) -> None:
    # Given: SOURCES.md counts 707 include directives in the corpus
    assert len(rust_book) == 112
    stripped = 0
    for path in rust_book:
        # When
        document = parse_document(path.read_bytes(), None, path.name)
        # Then
        text = document.pages[0].text
        assert "{{#" not in text, path.name
        assert "<!--" not in text, path.name
        assert "```rust\n```" not in text, path.name  # fences emptied by the stripping go too
        assert isinstance(document.metadata["directives_stripped"], int)
        stripped += document.metadata["directives_stripped"]
    assert stripped == 707


def test_rust_book_chapter_headings_title_and_prose(documents_dir: Path) -> None:
    # Given
    path = documents_dir / RUST_BOOK / "ch04-01-what-is-ownership.md"
    # When
    document = parse_document(path.read_bytes(), "text/markdown", path.name)
    # Then
    page = document.pages[0]
    assert document.content_type == "text/markdown"
    assert document.title == "What Is Ownership?"
    assert document.metadata == {"directives_stripped": 13, "comments_stripped": 8}
    assert [(heading.level, heading.title) for heading in page.headings[:4]] == [
        (2, "What Is Ownership?"),
        (3, "Ownership Rules"),
        (3, "Variable Scope"),
        (3, "The `String` Type"),
    ]
    for heading in page.headings:
        assert page.text[heading.start : heading.end].lstrip("# ") == heading.title
    # code written inline stays; the link markers `<!-- ignore -->` go
    assert '```rust\nlet s = "hello";\n```' in page.text
    assert "(stack vs heap)" not in page.text or "<!--" not in page.text


def test_headings_inside_code_fences_are_not_headings() -> None:
    # Given
    text = "# Title\n\n```sh\n# a shell comment\n```\n\n~~~~\n## not either\n~~~~\n\n## Real\n\n####### 7\n#tag"
    # When
    headings = find_headings(text)
    # Then
    assert [(heading.level, heading.title) for heading in headings] == [(1, "Title"), (2, "Real")]


def test_setext_and_closed_atx_headings() -> None:
    # When
    headings = find_headings("Intro\n=====\n\ntext\n\nPart two\n--------\n\n### Closed ###\n")
    # Then
    assert headings == [
        Heading(1, "Intro", 0, 11),
        Heading(2, "Part two", 19, 36),
        Heading(3, "Closed", 38, 52),
    ]


def test_directives_inside_and_outside_fences_and_multiline_comments() -> None:
    # Given
    data = (
        b"# Guide\n\n<!--\nmulti-line\ncomment\n-->\nBefore {{#include snippet.md}} after.\n\n"
        b"```rust\n{{#rustdoc_include ../listings/a.rs:here}}\n```\n\n"
        b"```rust\nfn kept() {} // <!-- not a comment in code -->\n{{#include ../listings/b.rs}}\n```\n"
    )
    # When
    document = parse_document(data, None, "guide.md")
    # Then
    assert document.pages[0].text == (
        "# Guide\n\nBefore  after.\n\n```rust\nfn kept() {} // <!-- not a comment in code -->\n```"
    )
    assert document.metadata == {"directives_stripped": 3, "comments_stripped": 1}

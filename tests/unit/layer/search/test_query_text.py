"""User text turned into words a query parser can never misread."""

from __future__ import annotations

import pytest
import tantivy
from hypothesis import given
from hypothesis import strategies as st

from stratus.search.query_text import sanitize_query


@pytest.fixture(scope="module")
def parser_index() -> tantivy.Index:
    schema = tantivy.SchemaBuilder().add_text_field("text", stored=False, tokenizer_name="en_stem").build()
    return tantivy.Index(schema)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('what is "TSS"?', "what is TSS"),
        ("time:sharing (IBM) systems", "time sharing IBM systems"),
        ("compilers AND parsers OR NOT lexers", "compilers and parsers or not lexers"),
        ("[1 TO 5] {a} b^2 c~1 d* e\\f g/h +i -j !k", "1 to 5 a b 2 c 1 d e f g h i j k"),
        ("snake_case and O'Brien", "snake case and O Brien"),
        ("Éléments de théorie", "Éléments de théorie"),
        ("  \t\n ", ""),
        ("?!:()", ""),
    ],
)
def test_syntax_becomes_spaces_and_operators_become_plain_words(text: str, expected: str) -> None:
    assert sanitize_query(text) == expected


@given(st.text(max_size=200))
def test_tantivys_parser_accepts_any_sanitised_text(parser_index: tantivy.Index, text: str) -> None:
    cleaned = sanitize_query(text)

    if cleaned:
        parser_index.parse_query(cleaned, ["text"])


@given(st.text(max_size=200))
def test_sanitising_keeps_every_letter_and_digit_in_order(text: str) -> None:
    cleaned = sanitize_query(text)

    assert cleaned.replace(" ", "").lower() == "".join(c for c in text if c.isalnum()).lower()
    assert cleaned == " ".join(cleaned.split())

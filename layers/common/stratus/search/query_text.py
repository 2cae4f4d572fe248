"""User text made safe for a query parser: words only, never syntax."""

from __future__ import annotations

import re

# Anything that is not a letter or digit can be query syntax (quotes, colons, brackets, +-!^~*\/).
_NOT_A_WORD_CHARACTER = re.compile(r"[^\w\s]|_")
# Upper-case operators of Lucene-style parsers; lower-cased they are plain words.
_OPERATORS = frozenset({"AND", "OR", "NOT", "IN", "TO"})


def sanitize_query(text: str) -> str:
    """The words of ``text`` separated by single spaces, with no character a parser reads as syntax."""
    words = _NOT_A_WORD_CHARACTER.sub(" ", text).split()
    return " ".join(word.lower() if word in _OPERATORS else word for word in words)

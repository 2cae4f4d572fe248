"""Feature-hashing embeddings of word unigrams and bigrams: deterministic, fast, no model.

For unit tests and smoke runs: texts that share words are close, paraphrases are not.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from stratus.ai.text import words
from stratus.config.ai import HASH_EMBEDDING_MODEL_ID


@lru_cache(maxsize=65_536)
def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    # blake2b rather than hash(): Python's str hash changes from one process to the next.
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % dimensions, 1.0 if digest >> 63 else -1.0


class HashEmbedder:
    DEFAULT_DIMENSIONS = 256

    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        if dimensions < 8:
            raise ValueError("a hash embedding needs at least 8 dimensions")
        self._dimensions = dimensions

    @property
    def model_id(self) -> str:
        return f"{HASH_EMBEDDING_MODEL_ID}-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit vector per text; a text without any word maps to the zero vector."""
        vectors = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = words(text)
            features = tokens + [f"{left} {right}" for left, right in itertools.pairwise(tokens)]
            for feature in features:
                column, sign = _bucket(feature, self._dimensions)
                vectors[row, column] += sign
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors

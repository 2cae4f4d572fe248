"""Chunks with deterministic bag-of-words embeddings, for the embedded adapter's tests."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from stratus.search import IndexedChunk

DIMENSION = 64


def embed(text: str) -> list[float]:
    """A deterministic bag-of-words embedding: texts sharing words are close, others are not."""
    vector = np.zeros(DIMENSION, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big") % DIMENSION
        vector[bucket] += 1.0
    return [float(value) for value in vector]


def chunk(
    tenant_id: str,
    document_id: str,
    chunk_index: int,
    text: str,
    *,
    page: int | None = 1,
    metadata: dict[str, str] | None = None,
) -> IndexedChunk:
    return IndexedChunk(
        chunk_id=f"{document_id}#{chunk_index}",
        tenant_id=tenant_id,
        document_id=document_id,
        text=text,
        embedding=embed(text),
        page=page,
        chunk_index=chunk_index,
        metadata=metadata or {"content_type": "text/plain"},
    )

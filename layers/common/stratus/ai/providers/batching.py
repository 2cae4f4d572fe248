"""Request batching shared by the embedding adapters whose APIs cap the texts per call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def batches(texts: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``texts`` in consecutive slices of at most ``size``, in order."""
    for start in range(0, len(texts), size):
        yield texts[start : start + size]

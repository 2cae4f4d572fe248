"""The model ports every service and agent depends on; adapters in ``stratus.ai.providers`` implement them.

This module imports nothing but the request/response types, so any adapter or factory may import it
without a cycle.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from stratus.ai.types import ChatChunk, ChatRequest, ChatResult, Provider

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

__all__ = ["ChatModel", "Embedder"]


@runtime_checkable
class ChatModel(Protocol):
    """Generates text for a `ChatRequest`, whole or as a stream of chunks.

    Every adapter retries throttling and transient failures within its budget, then raises
    ``UpstreamUnavailable`` (503) or ``UpstreamFailed`` (502); no SDK exception reaches the caller.
    """

    @property
    def provider(self) -> Provider: ...

    @property
    def model_id(self) -> str: ...

    def generate(self, request: ChatRequest) -> ChatResult: ...

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        """Text chunks in order; the last chunk has empty text, the citations and the final `Usage`."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dimensions`` columns, one row per text."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...

"""The embeddings factory (the port is ``stratus.ai.ports.Embedder``).

numpy and the provider SDKs are imported by the adapters, which the factory imports on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from stratus.ai.ports import Embedder
from stratus.ai.settings import ai_settings_of
from stratus.ai.usage import record_embedding_usage
from stratus.config import Settings, get_settings
from stratus.config.ai import AiSettings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Vectors = npt.NDArray[np.float32]

__all__ = ["Embedder", "MeteredEmbedder", "get_embedder", "reset_embedders"]


class MeteredEmbedder:
    """Records how many texts were embedded and how long it took, for any adapter."""

    def __init__(self, inner: Embedder, provider: str) -> None:
        self._inner = inner
        self._provider = provider

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    @property
    def inner(self) -> Embedder:
        return self._inner

    def embed(self, texts: Sequence[str]) -> Vectors:
        started = time.perf_counter()
        vectors = self._inner.embed(texts)
        record_embedding_usage(
            provider=self._provider,
            model=self.model_id,
            texts=len(texts),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        return vectors


def _hash_embedder(settings: AiSettings) -> Embedder:
    from stratus.ai.providers.hashing import HashEmbedder

    return HashEmbedder(dimensions=settings.embedding_dimensions or HashEmbedder.DEFAULT_DIMENSIONS)


def _local_embedder(settings: AiSettings) -> Embedder:
    from stratus.ai.providers.local import LocalOnnxEmbedder

    return LocalOnnxEmbedder(
        settings.local_model_dir,
        threads=settings.local_model_threads,
        batch_size=settings.embedding_batch_size,
        model_id=settings.resolved_embedding_model_id,
    )


def _bedrock_embedder(settings: AiSettings) -> Embedder:
    from stratus.ai.providers.bedrock import BedrockEmbedder

    return BedrockEmbedder.from_settings(settings)


def _openai_embedder(settings: AiSettings) -> Embedder:
    from stratus.ai.providers.openai import OpenAIEmbedder

    return OpenAIEmbedder.from_settings(settings)


_BUILDERS: dict[str, Callable[[AiSettings], Embedder]] = {
    "hash": _hash_embedder,
    "local": _local_embedder,
    "bedrock": _bedrock_embedder,
    "openai": _openai_embedder,
}


@lru_cache(maxsize=8)
def _embedder(settings: AiSettings) -> Embedder:
    return MeteredEmbedder(_BUILDERS[settings.embedding_provider](settings), settings.embedding_provider)


def get_embedder(settings: Settings | AiSettings | None = None) -> Embedder:
    """The configured embedder, built once per container and configuration."""
    return _embedder(ai_settings_of(settings or get_settings()))


def reset_embedders() -> None:
    """Forget built embedders (tests and the local stack change settings)."""
    _embedder.cache_clear()

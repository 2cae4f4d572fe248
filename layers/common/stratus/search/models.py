"""The `SearchIndex` port and the values that cross it.

Every query names its tenant as a mandatory argument: an adapter filters on it inside the engine,
so one tenant's chunks can never reach another tenant's results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from stratus.errors import ValidationFailed

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Lazily evaluated, so numpy is never imported just to name the type.
type Embedding = Sequence[float] | npt.NDArray[np.floating[Any]]


@dataclass(frozen=True, slots=True)
class IndexedChunk:
    """One searchable piece of a document; ``chunk_id`` is unique within its tenant."""

    chunk_id: str
    tenant_id: str
    document_id: str
    text: str
    embedding: Embedding
    page: int | None = None
    chunk_index: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: str
    document_id: str
    page: int | None
    chunk_index: int
    text: str
    score: float
    metadata: Mapping[str, str] = field(default_factory=dict)


class SearchIndex(Protocol):
    """Hybrid-capable chunk index. ``document_ids=None`` searches every document of the tenant;
    an empty sequence searches none."""

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        """Add or replace chunks by (tenant, chunk id): re-upserting an id never duplicates it."""
        ...

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        """Remove every chunk of one document; returns how many were removed (0 if none)."""
        ...

    def keyword(self, tenant_id: str, query: str, k: int, document_ids: Sequence[str] | None = None) -> list[SearchHit]:
        """BM25 over chunk text, best first. Any user text is accepted: syntax is never interpreted."""
        ...

    def vector(
        self, tenant_id: str, embedding: Embedding, k: int, document_ids: Sequence[str] | None = None
    ) -> list[SearchHit]:
        """Nearest chunks by cosine similarity, best first."""
        ...

    def count(self, tenant_id: str, document_id: str | None = None) -> int: ...


def require_tenant(tenant_id: str) -> str:
    if not isinstance(tenant_id, str) or not tenant_id.strip():
        raise ValidationFailed("a search needs a tenant id", field="tenant_id")
    return tenant_id


def require_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1 or k > 10_000:
        raise ValidationFailed("k must be an integer between 1 and 10000", field="k")
    return k


def validate_chunk(chunk: IndexedChunk) -> None:
    """Checks every adapter applies before writing, so bad input fails before anything is written."""
    require_tenant(chunk.tenant_id)
    if not chunk.chunk_id or not chunk.document_id:
        raise ValidationFailed("a chunk needs a chunk_id and a document_id", chunk_id=chunk.chunk_id)
    if len(chunk.embedding) == 0:
        raise ValidationFailed("a chunk needs a non-empty embedding", chunk_id=chunk.chunk_id)
    if any(not isinstance(k, str) or not isinstance(v, str) for k, v in chunk.metadata.items()):
        raise ValidationFailed("chunk metadata maps strings to strings", chunk_id=chunk.chunk_id)

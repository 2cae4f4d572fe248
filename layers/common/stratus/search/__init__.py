"""Chunk search for RAG: the `SearchIndex` port, its adapters and hybrid fusion shared by all of them.

Adapters (import-heavy) load on first use through `get_search_index`:
- `stratus.search.embedded.EmbeddedSearchIndex`: tantivy BM25 + numpy vectors on local disk.
- `stratus.search.opensearch.OpenSearchIndex`: OpenSearch Serverless or a managed domain, SigV4.
"""

from stratus.search.factory import get_search_index, reset_search_indexes
from stratus.search.fusion import (
    DEFAULT_RRF_K,
    Fusion,
    hybrid_search,
    reciprocal_rank_fusion,
    weighted_fusion,
)
from stratus.search.models import Embedding, IndexedChunk, SearchHit, SearchIndex

__all__ = [
    "DEFAULT_RRF_K",
    "Embedding",
    "Fusion",
    "IndexedChunk",
    "SearchHit",
    "SearchIndex",
    "get_search_index",
    "hybrid_search",
    "reciprocal_rank_fusion",
    "reset_search_indexes",
    "weighted_fusion",
]

"""Hybrid search: one keyword list and one vector list fused into one ranking, the same for every adapter.

The fusion functions are pure: they take ranked ``(id, score)`` lists (best first) and return a fused
``(id, score)`` list, best first, ties broken deterministically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from typing import Literal

from stratus.errors import ValidationFailed
from stratus.search.models import Embedding, SearchHit, SearchIndex, require_k

Fusion = Literal["rrf", "weighted"]
Ranked = Sequence[tuple[str, float]]

DEFAULT_RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Ranked], rrf_k: int = DEFAULT_RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Score each id by ``sum(weight / (rrf_k + rank))`` over the lists it appears in (rank from 1).

    Only ranks matter, so lists with incomparable scores (BM25, cosine) fuse without calibration.
    Ties go to the id with the better best rank, then to the earlier list, then by id.
    """
    if rrf_k < 1:
        raise ValidationFailed("the RRF constant must be at least 1", field="rrf_k")
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    if len(weights) != len(rankings):
        raise ValidationFailed("one weight per ranking", field="weights")
    scores: dict[str, float] = {}
    ranks: dict[str, list[float]] = {}
    for list_no, (ranking, weight) in enumerate(zip(rankings, weights, strict=True)):
        for rank, item_id in enumerate(_unique_ids(ranking), start=1):
            scores[item_id] = scores.get(item_id, 0.0) + weight / (rrf_k + rank)
            ranks.setdefault(item_id, [math.inf] * len(rankings))[list_no] = rank
    return sorted(scores.items(), key=lambda item: (-item[1], min(ranks[item[0]]), ranks[item[0]], item[0]))


def weighted_fusion(keyword: Ranked, vector: Ranked, alpha: float = 0.5) -> list[tuple[str, float]]:
    """Score each id by ``alpha * vector + (1 - alpha) * keyword`` on min-max normalised scores.

    An id missing from a list gets 0 from it. ``alpha=1`` keeps the vector order, ``alpha=0`` the
    keyword order; ties go to the list with the larger weight, then the other list, then by id.
    """
    if not 0.0 <= alpha <= 1.0 or math.isnan(alpha):
        raise ValidationFailed("alpha must be between 0 and 1", field="alpha")
    keyword_scores = _min_max(keyword)
    vector_scores = _min_max(vector)
    keyword_rank = {item_id: rank for rank, item_id in enumerate(keyword_scores)}
    vector_rank = {item_id: rank for rank, item_id in enumerate(vector_scores)}
    fused = {
        item_id: alpha * vector_scores.get(item_id, 0.0) + (1.0 - alpha) * keyword_scores.get(item_id, 0.0)
        for item_id in (*keyword_scores, *vector_scores)
    }
    first, second = (vector_rank, keyword_rank) if alpha >= 0.5 else (keyword_rank, vector_rank)
    return sorted(
        fused.items(),
        key=lambda item: (-item[1], first.get(item[0], math.inf), second.get(item[0], math.inf), item[0]),
    )


def hybrid_search(
    index: SearchIndex,
    tenant_id: str,
    text: str,
    embedding: Embedding,
    k: int,
    document_ids: Sequence[str] | None = None,
    fusion: Fusion = "rrf",
    alpha: float = 0.5,
    candidates: int | None = None,
    rrf_k: int = DEFAULT_RRF_K,
) -> list[SearchHit]:
    """Keyword and vector search on ``index`` (concurrently, so the adapter must be thread-safe), fused;
    each hit's ``score`` is its fused score.

    ``candidates`` (default ``4 * k``) is how deep each list is read before fusing: deeper lists let a
    chunk that is second-rate in both lists beat one that is excellent in only one.
    """
    require_k(k)
    if fusion not in ("rrf", "weighted"):
        raise ValidationFailed("fusion must be 'rrf' or 'weighted'", field="fusion")
    depth = max(k, candidates if candidates is not None else 4 * k)
    # The two lists are independent: against OpenSearch that is two round trips in the time of one.
    vector_future = _background().submit(index.vector, tenant_id, embedding, depth, document_ids)
    keyword_hits = index.keyword(tenant_id, text, depth, document_ids)
    vector_hits = vector_future.result()
    keyword_ranked = [(hit.chunk_id, hit.score) for hit in keyword_hits]
    vector_ranked = [(hit.chunk_id, hit.score) for hit in vector_hits]
    if fusion == "rrf":
        fused = reciprocal_rank_fusion([keyword_ranked, vector_ranked], rrf_k=rrf_k)
    else:
        fused = weighted_fusion(keyword_ranked, vector_ranked, alpha=alpha)
    by_id = {hit.chunk_id: hit for hit in (*vector_hits, *keyword_hits)}
    return [replace(by_id[item_id], score=score) for item_id, score in fused[:k]]


@lru_cache(maxsize=1)
def _background() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="hybrid-search")


def _unique_ids(ranking: Ranked) -> list[str]:
    """Ids in rank order, each once (an adapter may return a chunk twice while a write settles)."""
    seen: dict[str, None] = {}
    for item_id, _ in ranking:
        seen.setdefault(item_id, None)
    return list(seen)


def _min_max(ranking: Ranked) -> dict[str, float]:
    """Scores scaled to [0, 1] in rank order, keeping each id's best score; all-equal scores become 1."""
    best: dict[str, float] = {}
    for item_id, score in ranking:
        if item_id not in best or score > best[item_id]:
            best[item_id] = score
    if not best:
        return {}
    low, high = min(best.values()), max(best.values())
    span = high - low
    scaled = {item_id: (score - low) / span if span > 0 else 1.0 for item_id, score in best.items()}
    order = {item_id: rank for rank, item_id in enumerate(_unique_ids(ranking))}
    return dict(sorted(scaled.items(), key=lambda item: (-item[1], order[item[0]])))

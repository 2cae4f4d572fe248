"""Reciprocal rank fusion, weighted fusion and `hybrid_search` over any adapter."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stratus.errors import ValidationFailed
from stratus.search import SearchHit, hybrid_search, reciprocal_rank_fusion, weighted_fusion
from stratus.search.models import Embedding, IndexedChunk


@st.composite
def rankings(draw: st.DrawFn) -> list[tuple[str, float]]:
    """A ranked list as an adapter returns it: distinct ids, scores never increasing."""
    ids = draw(st.lists(st.sampled_from([f"c{n}" for n in range(12)]), unique=True, max_size=10))
    scores = draw(
        st.lists(st.floats(min_value=-5, max_value=50, allow_nan=False), min_size=len(ids), max_size=len(ids))
    )
    return list(zip(ids, sorted(scores, reverse=True), strict=True))


def order(fused: Sequence[tuple[str, float]]) -> list[str]:
    return [item_id for item_id, _ in fused]


@given(rankings(), rankings())
def test_rrf_ranks_exactly_the_union_best_first(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]]
) -> None:
    fused = reciprocal_rank_fusion([keyword, vector])

    assert sorted(order(fused)) == sorted({item for item, _ in (*keyword, *vector)})
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True)


@given(rankings(), rankings())
def test_rrf_puts_an_id_that_is_first_in_both_lists_first(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]]
) -> None:
    fused = reciprocal_rank_fusion([[("top", 99.0), *keyword], [("top", 99.0), *vector]])

    assert order(fused)[0] == "top"


@given(rankings(), rankings())
def test_rrf_ranks_a_dominating_id_above_the_one_it_dominates(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]]
) -> None:
    # a dominates b when a is in every list b is in, always ranked better
    fused = order(reciprocal_rank_fusion([keyword, vector]))
    ranks = [{item: rank for rank, (item, _) in enumerate(ranking)} for ranking in (keyword, vector)]
    for a in fused:
        for b in fused:
            dominates = a != b and all(a in rank and rank[a] < rank[b] for rank in ranks if b in rank)
            if dominates:
                assert fused.index(a) < fused.index(b)


@given(rankings())
def test_rrf_of_one_list_keeps_its_order(ranking: list[tuple[str, float]]) -> None:
    assert order(reciprocal_rank_fusion([ranking])) == order(ranking)


@given(rankings(), rankings())
def test_rrf_does_not_depend_on_which_list_comes_first(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]]
) -> None:
    forward = dict(reciprocal_rank_fusion([keyword, vector]))
    backward = dict(reciprocal_rank_fusion([vector, keyword]))
    assert forward.keys() == backward.keys()
    assert all(math.isclose(forward[item], backward[item]) for item in forward)


def test_rrf_scores_follow_the_formula_with_a_configurable_constant() -> None:
    fused = dict(reciprocal_rank_fusion([[("a", 9.0), ("b", 1.0)], [("b", 0.9)]], rrf_k=10))

    assert fused["a"] == pytest.approx(1 / 11)
    assert fused["b"] == pytest.approx(1 / 12 + 1 / 11)


@given(rankings(), rankings(), st.floats(min_value=0, max_value=1))
def test_weighted_fusion_ranks_the_union_with_scores_between_0_and_1(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]], alpha: float
) -> None:
    fused = weighted_fusion(keyword, vector, alpha)

    assert sorted(order(fused)) == sorted({item for item, _ in (*keyword, *vector)})
    scores = [score for _, score in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(-1e-9 <= score <= 1 + 1e-9 for score in scores)


@given(rankings(), rankings())
def test_weighted_fusion_with_alpha_1_keeps_the_vector_order(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]]
) -> None:
    fused = order(weighted_fusion(keyword, vector, alpha=1.0))

    assert fused[: len(vector)] == order(vector)


@given(rankings(), rankings())
def test_weighted_fusion_with_alpha_0_keeps_the_keyword_order(
    keyword: list[tuple[str, float]], vector: list[tuple[str, float]]
) -> None:
    fused = order(weighted_fusion(keyword, vector, alpha=0.0))

    assert fused[: len(keyword)] == order(keyword)


def test_weighted_fusion_normalises_each_list_before_mixing() -> None:
    # BM25 scores in the tens and cosines below 1 weigh the same once min-max normalised
    keyword = [("a", 30.0), ("b", 20.0), ("c", 10.0)]
    vector = [("c", 0.9), ("b", 0.5), ("a", 0.1)]

    fused = dict(weighted_fusion(keyword, vector, alpha=0.5))

    assert fused == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5})


def test_fusion_refuses_bad_parameters() -> None:
    with pytest.raises(ValidationFailed):
        weighted_fusion([], [], alpha=1.5)
    with pytest.raises(ValidationFailed):
        reciprocal_rank_fusion([[]], rrf_k=0)
    with pytest.raises(ValidationFailed):
        reciprocal_rank_fusion([[], []], weights=[1.0])


class RecordingIndex:
    """A `SearchIndex` double with fixed keyword and vector answers."""

    def __init__(self, keyword: list[SearchHit], vector: list[SearchHit]) -> None:
        self._keyword = keyword
        self._vector = vector
        self.calls: list[tuple[str, str, int, Sequence[str] | None]] = []

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        raise NotImplementedError

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        raise NotImplementedError

    def keyword(self, tenant_id: str, query: str, k: int, document_ids: Sequence[str] | None = None) -> list[SearchHit]:
        self.calls.append(("keyword", tenant_id, k, document_ids))
        return self._keyword[:k]

    def vector(
        self, tenant_id: str, embedding: Embedding, k: int, document_ids: Sequence[str] | None = None
    ) -> list[SearchHit]:
        self.calls.append(("vector", tenant_id, k, document_ids))
        return self._vector[:k]

    def count(self, tenant_id: str, document_id: str | None = None) -> int:
        return 0


def hit(chunk_id: str, score: float) -> SearchHit:
    return SearchHit(chunk_id, "doc", 1, int(chunk_id[1:]), f"text of {chunk_id}", score, {"title": "t"})


def test_hybrid_search_reads_deeper_than_k_and_returns_k_fused_hits() -> None:
    # Given an index whose keyword and vector lists only agree on c2
    index = RecordingIndex(
        keyword=[hit("c1", 12.0), hit("c2", 8.0), hit("c3", 1.0)],
        vector=[hit("c4", 0.9), hit("c2", 0.8), hit("c5", 0.1)],
    )

    # When hybrid search asks for 2 hits within one document
    hits = hybrid_search(index, "tenant-a", "question", [0.1, 0.2], k=2, document_ids=["doc"])

    # Then both lists were read 4x deeper, with tenant and filter, and c2 wins with its payload kept
    assert sorted(index.calls) == [("keyword", "tenant-a", 8, ["doc"]), ("vector", "tenant-a", 8, ["doc"])]
    assert [h.chunk_id for h in hits] == ["c2", "c1"]
    assert hits[0].text == "text of c2" and hits[0].metadata == {"title": "t"}
    assert hits[0].score == pytest.approx(2 / 62)


def test_hybrid_search_weighted_with_alpha_1_is_the_vector_order() -> None:
    index = RecordingIndex(
        keyword=[hit("c1", 12.0), hit("c2", 8.0)],
        vector=[hit("c3", 0.9), hit("c2", 0.8), hit("c1", 0.2)],
    )

    hits = hybrid_search(index, "tenant-a", "q", [0.0], k=3, fusion="weighted", alpha=1.0, candidates=3)

    assert [h.chunk_id for h in hits] == ["c3", "c2", "c1"]
    assert {call[2] for call in index.calls} == {3}


def test_hybrid_search_with_no_keyword_match_falls_back_to_vectors() -> None:
    index = RecordingIndex(keyword=[], vector=[hit("c3", 0.9), hit("c4", 0.5)])

    hits = hybrid_search(index, "tenant-a", "???", [0.0], k=5)

    assert [h.chunk_id for h in hits] == ["c3", "c4"]

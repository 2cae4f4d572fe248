"""The embedded adapter for real: tantivy and numpy on a temporary directory."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stratus.errors import ValidationFailed
from stratus.search import SearchHit, hybrid_search
from stratus.search.embedded import EmbeddedSearchIndex

from .chunks import DIMENSION, chunk, embed

MANUAL = [
    "To reset the router hold the power button for ten seconds.",
    "The warranty covers manufacturing defects for two years.",
    "Firmware updates are installed automatically every night.",
]
INVOICE = [
    "Invoices are payable within thirty days of issue.",
    "Late payments incur interest at the statutory rate.",
]


def seed(index: EmbeddedSearchIndex, tenant_id: str = "tenant-a") -> None:
    index.upsert([chunk(tenant_id, "manual", i, text, page=i + 1) for i, text in enumerate(MANUAL)])
    index.upsert([chunk(tenant_id, "invoice", i, text) for i, text in enumerate(INVOICE)])


def ids(hits: list[SearchHit]) -> list[str]:
    return [hit.chunk_id for hit in hits]


def test_every_query_kind_finds_the_chunk_that_answers(index: EmbeddedSearchIndex) -> None:
    # Given two documents of one tenant
    seed(index)
    question = "how long is the warranty for defects"

    # When the tenant searches by keyword, by vector and by both
    keyword = index.keyword("tenant-a", question, k=3)
    vector = index.vector("tenant-a", embed(question), k=3)
    hybrid = hybrid_search(index, "tenant-a", question, embed(question), k=3)

    # Then each puts the warranty chunk first, with its stored payload
    for hits in (keyword, vector, hybrid):
        best = hits[0]
        assert best.chunk_id == "manual#1"
        assert best.document_id == "manual"
        assert best.page == 2
        assert best.chunk_index == 1
        assert best.text == MANUAL[1]
        assert best.metadata == {"content_type": "text/plain"}


def test_keyword_search_matches_other_forms_of_a_word(index: EmbeddedSearchIndex) -> None:
    # Given a chunk that says "installed" and "updates"
    seed(index)

    # When the query says "install" and "update"
    hits = index.keyword("tenant-a", "install update", k=1)

    # Then English stemming matches them
    assert ids(hits) == ["manual#2"]


def test_vector_scores_are_cosine_similarities_best_first(index: EmbeddedSearchIndex) -> None:
    # Given indexed chunks
    seed(index)

    # When searching with the exact embedding of one chunk
    hits = index.vector("tenant-a", np.asarray(embed(INVOICE[0]), dtype=np.float64), k=5)

    # Then that chunk scores 1 and the rest follow in decreasing order
    assert hits[0].chunk_id == "invoice#0"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert all(-1.0 - 1e-6 <= hit.score <= 1.0 + 1e-6 for hit in hits)


def test_reupserting_the_same_ids_replaces_and_never_duplicates(index: EmbeddedSearchIndex) -> None:
    # Given a seeded index
    seed(index)

    # When the manual is ingested again, with one chunk rewritten, twice in one batch
    rewritten = chunk("tenant-a", "manual", 0, "Reboot the modem by unplugging it for a minute.")
    index.upsert([chunk("tenant-a", "manual", i, text) for i, text in enumerate(MANUAL)])
    index.upsert([rewritten, rewritten])

    # Then the counts are unchanged and only the new text is found
    assert index.count("tenant-a") == 5
    assert index.count("tenant-a", "manual") == 3
    assert ids(index.keyword("tenant-a", "router power button", k=10)) == []
    assert ids(index.keyword("tenant-a", "modem unplugging", k=10)) == ["manual#0"]
    vector_ids = ids(index.vector("tenant-a", embed("anything at all"), k=10))
    assert sorted(vector_ids) == sorted(set(vector_ids))
    assert len(vector_ids) == 5
    assert index.vector("tenant-a", rewritten.embedding, k=1)[0].text == rewritten.text


def test_deleting_a_document_removes_it_from_every_query_kind(index: EmbeddedSearchIndex) -> None:
    # Given two documents
    seed(index)

    # When the manual is deleted
    removed = index.delete_document("tenant-a", "manual")

    # Then its three chunks are gone from keyword, vector, hybrid and count, and the invoice stays
    assert removed == 3
    question = "warranty defects router firmware"
    assert all(hit.document_id == "invoice" for hit in index.keyword("tenant-a", question, k=10))
    assert all(hit.document_id == "invoice" for hit in index.vector("tenant-a", embed(question), k=10))
    hybrid = hybrid_search(index, "tenant-a", question, embed(question), k=10)
    assert {hit.document_id for hit in hybrid} == {"invoice"}
    assert index.count("tenant-a", "manual") == 0
    assert index.count("tenant-a") == 2
    # And deleting again is a no-op
    assert index.delete_document("tenant-a", "manual") == 0


def test_deleting_every_document_leaves_an_empty_index(index: EmbeddedSearchIndex) -> None:
    # Given one document
    index.upsert([chunk("tenant-a", "solo", 0, "a single chunk about routers")])

    # When it is deleted
    index.delete_document("tenant-a", "solo")

    # Then every query kind answers with nothing
    assert index.keyword("tenant-a", "routers", k=5) == []
    assert index.vector("tenant-a", embed("routers"), k=5) == []
    assert index.count("tenant-a") == 0


def test_a_tenant_never_sees_another_tenants_chunks(index: EmbeddedSearchIndex) -> None:
    # Given tenant A's documents, and tenant B with one chunk that reuses one of A's chunk ids
    seed(index, "tenant-a")
    index.upsert([chunk("tenant-b", "manual", 1, "Tenant B keeps its own notes on gardening.")])

    # When tenant B searches with A's words
    question = "warranty defects router invoices payable"
    keyword = index.keyword("tenant-b", question, k=10)
    vector = index.vector("tenant-b", embed(question), k=10)
    hybrid = hybrid_search(index, "tenant-b", question, embed(question), k=10)

    # Then B sees only its own chunk, and A's same-id chunk is untouched
    assert keyword == []
    assert [hit.text for hit in vector] == ["Tenant B keeps its own notes on gardening."]
    assert [hit.text for hit in hybrid] == ["Tenant B keeps its own notes on gardening."]
    assert index.count("tenant-b") == 1
    assert index.keyword("tenant-a", "warranty defects", k=1)[0].text == MANUAL[1]
    # And B deleting "manual" removes only B's chunk
    assert index.delete_document("tenant-b", "manual") == 1
    assert index.count("tenant-a", "manual") == 3


def test_an_unknown_tenant_gets_nothing(index: EmbeddedSearchIndex) -> None:
    seed(index)

    assert index.keyword("tenant-z", "warranty", k=5) == []
    assert index.vector("tenant-z", embed("warranty"), k=5) == []
    assert index.count("tenant-z") == 0


def test_the_index_survives_a_restart(index_dir: Path) -> None:
    # Given an index written by one instance
    seed(EmbeddedSearchIndex(index_dir))

    # When a new instance opens the same directory
    reopened = EmbeddedSearchIndex(index_dir)

    # Then it finds everything, by keyword and by vector, and can keep writing
    assert reopened.count("tenant-a") == 5
    assert ids(reopened.keyword("tenant-a", "invoices payable", k=1)) == ["invoice#0"]
    assert ids(reopened.vector("tenant-a", embed(MANUAL[2]), k=1)) == ["manual#2"]
    assert reopened.delete_document("tenant-a", "invoice") == 2
    assert EmbeddedSearchIndex(index_dir).count("tenant-a") == 3


def test_the_document_filter_limits_every_query_kind(index: EmbeddedSearchIndex) -> None:
    # Given two documents that both mention payment-like words
    seed(index)
    index.upsert([chunk("tenant-a", "manual", 3, "Payments for repairs are due on collection.")])
    question = "payments due"

    # When the search is limited to the manual
    keyword = index.keyword("tenant-a", question, k=10, document_ids=["manual"])
    vector = index.vector("tenant-a", embed(question), k=10, document_ids=["manual"])
    hybrid = hybrid_search(index, "tenant-a", question, embed(question), k=10, document_ids=["manual"])

    # Then only manual chunks come back; an empty filter selects nothing
    assert ids(keyword) == ["manual#3"]
    assert {hit.document_id for hit in vector} == {"manual"}
    assert {hit.document_id for hit in hybrid} == {"manual"}
    assert index.keyword("tenant-a", question, k=10, document_ids=[]) == []
    assert index.vector("tenant-a", embed(question), k=10, document_ids=[]) == []
    both = index.vector("tenant-a", embed(question), k=10, document_ids=["manual", "invoice", "missing"])
    assert len(both) == 6


@pytest.mark.parametrize(
    "question",
    [
        'what does "hold the power',
        "router: reset (power) button?",
        "warranty AND OR NOT",
        "title:warranty",
        "[1 TO 5] {x} ^2 ~3 * \\ / + - ! &&",
        "",
        "   ",
        "?!?",
        "é" * 100,
        "AND",
    ],
)
def test_any_user_text_is_a_valid_keyword_query(index: EmbeddedSearchIndex, question: str) -> None:
    # Given a seeded index
    seed(index)

    # When a user types text full of query syntax, the search answers instead of raising
    hits = index.keyword("tenant-a", question, k=5)

    # Then words still match and syntax alone matches nothing
    assert isinstance(hits, list)


def test_quoted_and_operator_words_still_match_as_words(index: EmbeddedSearchIndex) -> None:
    seed(index)

    assert ids(index.keyword("tenant-a", 'what "warranty" (covers) AND: defects?', k=1)) == ["manual#1"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.text(max_size=80))
def test_keyword_search_never_raises_on_arbitrary_text(index: EmbeddedSearchIndex, question: str) -> None:
    if index.count("tenant-a") == 0:
        seed(index)

    hits = index.keyword("tenant-a", question, k=3)

    assert all(hit.document_id in {"manual", "invoice"} for hit in hits)


def test_bad_input_is_refused_before_anything_is_written(index: EmbeddedSearchIndex) -> None:
    # Given an index holding 64-dimension vectors
    seed(index)
    wrong_dimension = replace(chunk("tenant-a", "other", 0, "text"), embedding=[1.0, 2.0])

    # When a batch mixes a good chunk with a chunk of another dimension, or a query has the wrong size
    with pytest.raises(ValidationFailed):
        index.upsert([chunk("tenant-a", "other", 1, "good"), wrong_dimension])
    with pytest.raises(ValidationFailed):
        index.vector("tenant-a", [1.0, 0.0], k=3)
    with pytest.raises(ValidationFailed):
        index.vector("tenant-a", [float("nan")] * DIMENSION, k=3)
    with pytest.raises(ValidationFailed):
        index.keyword("", "warranty", k=3)
    with pytest.raises(ValidationFailed):
        index.keyword("tenant-a", "warranty", k=0)

    # Then nothing of the batch was written
    assert index.count("tenant-a", "other") == 0


def test_concurrent_writers_and_readers_see_a_consistent_index(index: EmbeddedSearchIndex) -> None:
    # Given a seeded index and several threads, as under the local dev server
    seed(index)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(5):
                index.upsert([chunk("tenant-a", f"doc-{worker}", n, f"worker {worker} note {n} about routers")])
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            for _ in range(20):
                index.keyword("tenant-a", "routers", k=5)
                index.vector("tenant-a", embed("routers"), k=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=read) for _ in range(4)]

    # When they all run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then nothing failed and every write is there exactly once
    assert errors == []
    assert index.count("tenant-a") == 5 + 4 * 5
    assert len(index.vector("tenant-a", embed("routers"), k=100)) == 25

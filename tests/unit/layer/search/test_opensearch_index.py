"""The OpenSearch adapter through opensearch-py's real client and SigV4 signer, against a fake server."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator

import pytest
from botocore.credentials import Credentials

from stratus.config import Settings
from stratus.errors import UpstreamFailed, UpstreamUnavailable, ValidationFailed
from stratus.retry import RetryPolicy
from stratus.search import IndexedChunk, hybrid_search
from stratus.search.opensearch import OpenSearchIndex, build_client

from .fake_opensearch import FakeOpenSearch, connection_class_for

INDEX = "stratus-chunks"
DIMENSION = 16


def embed(text: str) -> list[float]:
    vector = [0.0] * DIMENSION
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIMENSION] += 1.0
    return vector


def chunk(tenant_id: str, document_id: str, chunk_index: int, text: str) -> IndexedChunk:
    return IndexedChunk(
        chunk_id=f"{document_id}#{chunk_index}",
        tenant_id=tenant_id,
        document_id=document_id,
        text=text,
        embedding=embed(text),
        page=chunk_index + 1,
        chunk_index=chunk_index,
        metadata={"title": document_id, "modality": "text"},
    )


HANDBOOK = [
    chunk("tenant-a", "handbook", 0, "Holidays must be requested two weeks in advance."),
    chunk("tenant-a", "handbook", 1, "Expenses are reimbursed within one month."),
    chunk("tenant-a", "policy", 0, "Laptops are replaced every three years."),
]


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_index(
    monkeypatch: pytest.MonkeyPatch, server: FakeOpenSearch, sleeps: list[float], service: str
) -> OpenSearchIndex:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("SEARCH_BACKEND", "opensearch")
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", "https://abc123.eu-west-1.aoss.amazonaws.com")
    monkeypatch.setenv("OPENSEARCH_SERVICE", service)
    settings = Settings()
    client = build_client(
        settings,
        credentials=Credentials("AKIDEXAMPLE", "secret"),
        connection_class=connection_class_for(server),
    )
    retry = RetryPolicy(max_attempts=4, base_delay_s=0.2, max_delay_s=5.0, sleep=sleeps.append)
    return OpenSearchIndex(client, INDEX, serverless=service == "aoss", retry=retry)


@pytest.fixture(params=["aoss", "es"])
def target(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> Iterator[tuple[OpenSearchIndex, FakeOpenSearch]]:
    server = FakeOpenSearch(serverless=request.param == "aoss")
    yield make_index(monkeypatch, server, sleeps, request.param), server
    # Whatever the test did, the adapter never sent a read without a tenant filter,
    # nor a custom id or refresh to Serverless.
    assert server.violations == []


@pytest.fixture
def serverless(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> Iterator[tuple[OpenSearchIndex, FakeOpenSearch]]:
    server = FakeOpenSearch(serverless=True)
    yield make_index(monkeypatch, server, sleeps, "aoss"), server
    assert server.violations == []


@pytest.fixture
def domain(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> Iterator[tuple[OpenSearchIndex, FakeOpenSearch]]:
    server = FakeOpenSearch(serverless=False)
    yield make_index(monkeypatch, server, sleeps, "es"), server
    assert server.violations == []


def test_first_upsert_creates_a_knn_index_with_the_embedding_dimension(
    target: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given no index yet
    index, server = target

    # When chunks are upserted
    index.upsert(HANDBOOK)

    # Then the index maps a faiss HNSW inner-product vector of the embedder's dimension, English text
    # and exact-match keyword fields
    definition = server.indices[INDEX]["definition"]
    assert definition["settings"] == {"index": {"knn": True}}
    properties = definition["mappings"]["properties"]
    assert properties["embedding"] == {
        "type": "knn_vector",
        "dimension": DIMENSION,
        "method": {
            "name": "hnsw",
            "engine": "faiss",
            "space_type": "innerproduct",
            "parameters": {"m": 16, "ef_construction": 128},
        },
    }
    assert properties["text"] == {"type": "text", "analyzer": "english"}
    for name in ("chunk_id", "tenant_id", "document_id"):
        assert properties[name] == {"type": "keyword"}
    assert server.paths()[:2] == [f"HEAD /{INDEX}", f"PUT /{INDEX}"]


def test_every_request_is_signed_with_sigv4_for_the_configured_service(
    monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    for service in ("aoss", "es"):
        # Given an adapter for one service
        server = FakeOpenSearch(serverless=service == "aoss")
        index = make_index(monkeypatch, server, sleeps, service)

        # When it writes and reads
        index.upsert(HANDBOOK)
        index.keyword("tenant-a", "holidays", k=3)

        # Then every request carries a SigV4 signature scoped to the region and that service
        for request in server.requests:
            headers = {name.lower(): value for name, value in request.headers.items()}
            assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            assert f"/eu-west-1/{service}/aws4_request" in headers["authorization"]
            assert "x-amz-date" in headers
            assert "x-amz-content-sha256" in headers


def test_upserted_chunks_are_found_by_keyword_vector_and_hybrid(
    target: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given indexed chunks
    index, _ = target
    index.upsert(HANDBOOK)
    question = "how are expenses reimbursed"

    # When searching three ways
    keyword = index.keyword("tenant-a", question, k=2)
    vector = index.vector("tenant-a", embed(HANDBOOK[1].text), k=2)
    hybrid = hybrid_search(index, "tenant-a", question, embed(question), k=2)

    # Then the expenses chunk comes first with its payload, and vector scores are cosine similarities
    for hits in (keyword, vector, hybrid):
        assert hits[0].chunk_id == "handbook#1"
        assert hits[0].document_id == "handbook"
        assert hits[0].page == 2
        assert hits[0].text == HANDBOOK[1].text
        assert hits[0].metadata == {"title": "handbook", "modality": "text"}
    assert vector[0].score == pytest.approx(1.0)


def test_queries_carry_the_tenant_and_document_filters(
    target: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given indexed chunks
    index, server = target
    index.upsert(HANDBOOK)
    server.requests.clear()

    # When searching one document
    keyword = index.keyword("tenant-a", "laptops expenses", k=5, document_ids=["policy"])
    vector = index.vector("tenant-a", embed("laptops"), k=5, document_ids=["policy"])

    # Then only that document's chunks come back, because both filters went to the engine
    assert [hit.chunk_id for hit in keyword] == ["policy#0"]
    assert [hit.chunk_id for hit in vector] == ["policy#0"]
    match_body, knn_body = (request.body for request in server.requests)
    expected_filters = [{"term": {"tenant_id": "tenant-a"}}, {"terms": {"document_id": ["policy"]}}]
    assert match_body["query"]["bool"] == {
        "must": [{"match": {"text": {"query": "laptops expenses"}}}],
        "filter": expected_filters,
    }
    knn = knn_body["query"]["knn"]["embedding"]
    assert knn["k"] == 5
    assert knn["filter"] == {"bool": {"filter": expected_filters}}
    assert "embedding" not in match_body["_source"]


def test_a_tenant_never_sees_another_tenants_chunks(target: tuple[OpenSearchIndex, FakeOpenSearch]) -> None:
    # Given tenant A's chunks and tenant B's chunk with the same chunk id
    index, _ = target
    index.upsert(HANDBOOK)
    index.upsert([chunk("tenant-b", "handbook", 0, "Tenant B has its own gardening notes.")])

    # When tenant B searches with A's words
    keyword = index.keyword("tenant-b", "holidays expenses laptops", k=10)
    vector = index.vector("tenant-b", embed("holidays expenses laptops"), k=10)

    # Then B only ever gets its own chunk, and A's chunk with that id is intact
    assert keyword == []
    assert [hit.text for hit in vector] == ["Tenant B has its own gardening notes."]
    assert index.count("tenant-b") == 1
    assert index.count("tenant-a") == 3
    assert index.keyword("tenant-a", "holidays", k=1)[0].text == HANDBOOK[0].text


def test_reupserting_the_same_chunks_never_duplicates_them(
    target: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given indexed chunks
    index, server = target
    index.upsert(HANDBOOK)

    # When the same chunk ids are upserted again, one with new text
    rewritten = chunk("tenant-a", "handbook", 0, "Holidays need one week of notice.")
    index.upsert([*HANDBOOK[1:], rewritten])

    # Then the index holds each chunk once, with the new text
    assert index.count("tenant-a") == 3
    assert len(server.docs(INDEX)) == 3
    assert [hit.text for hit in index.keyword("tenant-a", "holidays notice", k=5)] == [rewritten.text]


def test_domains_use_tenant_scoped_ids_and_wait_for_refresh(
    domain: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given a managed domain
    index, server = domain

    # When chunks are upserted
    index.upsert(HANDBOOK[:1])

    # Then the bulk body is one action line with the tenant-scoped id, then the full source line
    (bulk,) = [request for request in server.requests if request.path.endswith("/_bulk")]
    assert bulk.params == {"refresh": "wait_for"}
    lines = bulk.body.splitlines()
    assert len(lines) == 2 and bulk.body.endswith("\n")
    assert lines[0] == '{"index": {"_index": "stratus-chunks", "_id": "tenant-a/handbook#0"}}'
    source = json.loads(lines[1])
    assert source["chunk_id"] == "handbook#0"
    assert source["tenant_id"] == "tenant-a"
    assert source["document_id"] == "handbook"
    assert source["page"] == 1 and source["chunk_index"] == 0
    assert source["metadata"] == {"title": "handbook", "modality": "text"}
    assert sum(value * value for value in source["embedding"]) == pytest.approx(1.0)


def test_serverless_replaces_chunks_by_deleting_their_server_assigned_ids(
    serverless: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given a Serverless vector collection holding one chunk under an id it assigned itself
    index, server = serverless
    index.upsert(HANDBOOK[:1])
    (first_id,) = server.docs(INDEX)

    # When the chunk is upserted again
    server.requests.clear()
    index.upsert(HANDBOOK[:1])

    # Then one bulk deletes the old document and indexes the new one without an id, and no refresh is asked
    lookup, bulk = server.requests
    assert lookup.path == f"/{INDEX}/_search"
    assert lookup.body["query"]["bool"]["filter"] == [
        {"term": {"tenant_id": "tenant-a"}},
        {"terms": {"chunk_id": ["handbook#0"]}},
    ]
    lines = bulk.body.splitlines()
    assert lines[0] == f'{{"delete": {{"_index": "{INDEX}", "_id": "{first_id}"}}}}'
    assert lines[1] == f'{{"index": {{"_index": "{INDEX}"}}}}'
    assert bulk.params == {}
    assert len(server.docs(INDEX)) == 1


def test_serverless_results_hold_each_chunk_once_even_if_a_write_raced(
    serverless: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given a duplicate left by a re-upsert that raced the collection's refresh
    index, server = serverless
    index.upsert(HANDBOOK)
    source = next(iter(server.docs(INDEX).values()))
    server.docs(INDEX)["late-duplicate"] = dict(source)

    # When searching
    hits = index.vector("tenant-a", embed(source["text"]), k=10)

    # Then the chunk appears once
    assert [hit.chunk_id for hit in hits].count(source["chunk_id"]) == 1


def test_deleting_a_document_on_a_domain_uses_delete_by_query(
    domain: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given two documents
    index, server = domain
    index.upsert(HANDBOOK)

    # When the handbook is deleted
    removed = index.delete_document("tenant-a", "handbook")

    # Then one delete-by-query scoped to tenant and document removed its two chunks
    assert removed == 2
    (request,) = [r for r in server.requests if r.path.endswith("/_delete_by_query")]
    assert request.body["query"] == {
        "bool": {"filter": [{"term": {"tenant_id": "tenant-a"}}, {"terms": {"document_id": ["handbook"]}}]}
    }
    assert request.params["refresh"] == "true"
    assert index.count("tenant-a") == 1


def test_deleting_a_document_on_serverless_searches_ids_then_bulk_deletes(
    serverless: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given two documents in a collection without _delete_by_query
    index, server = serverless
    index.upsert(HANDBOOK)

    # When the handbook is deleted
    removed = index.delete_document("tenant-a", "handbook")

    # Then it is gone from every query kind, and no delete-by-query was attempted
    assert removed == 2
    assert not any(r.path.endswith("/_delete_by_query") for r in server.requests)
    assert index.count("tenant-a", "handbook") == 0
    assert index.keyword("tenant-a", "holidays expenses", k=5) == []
    assert {hit.document_id for hit in index.vector("tenant-a", embed("holidays"), k=5)} == {"policy"}
    assert index.delete_document("tenant-a", "handbook") == 0


def test_serverless_deletes_page_through_large_documents(
    serverless: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given a document with more chunks than one search page
    index, server = serverless
    big = [chunk("tenant-a", "big", n, f"chunk number {n}") for n in range(1005)]
    index.upsert(big)

    # When it is deleted
    removed = index.delete_document("tenant-a", "big")

    # Then every chunk is gone, found over two pages
    assert removed == 1005
    assert server.docs(INDEX) == {}
    searches = [r for r in server.requests if r.path.endswith("/_search") and r.body.get("sort")]
    assert any("search_after" in r.body for r in searches)


def test_reads_before_any_write_find_nothing(target: tuple[OpenSearchIndex, FakeOpenSearch]) -> None:
    index, _ = target

    assert index.keyword("tenant-a", "anything", k=5) == []
    assert index.vector("tenant-a", embed("anything"), k=5) == []
    assert index.count("tenant-a") == 0
    assert index.delete_document("tenant-a", "nothing") == 0


def test_throttling_is_retried_with_growing_backoff(
    domain: tuple[OpenSearchIndex, FakeOpenSearch], sleeps: list[float]
) -> None:
    # Given a domain that throttles twice
    index, server = domain
    index.upsert(HANDBOOK)
    server.fail_next = [429, 503]

    # When searching
    hits = index.keyword("tenant-a", "laptops", k=1)

    # Then the search succeeds on the third attempt after two jittered, capped waits
    assert [hit.chunk_id for hit in hits] == ["policy#0"]
    assert len(sleeps) == 2
    assert 0.0 <= sleeps[0] <= 0.2 and 0.0 <= sleeps[1] <= 0.4


def test_a_provider_that_stays_unavailable_fails_clearly_after_bounded_attempts(
    domain: tuple[OpenSearchIndex, FakeOpenSearch], sleeps: list[float]
) -> None:
    # Given a domain answering 503 to every request
    index, server = domain
    index.upsert(HANDBOOK)
    server.requests.clear()
    server.fail_next = [503] * 10

    # When searching, then it gives up after four attempts with a 503-mapped domain error
    with pytest.raises(UpstreamUnavailable, match=r"gave up after 4 attempt"):
        index.keyword("tenant-a", "laptops", k=1)
    assert len(server.requests) == 4
    assert len(sleeps) == 3


def test_a_refused_request_is_not_retried(domain: tuple[OpenSearchIndex, FakeOpenSearch], sleeps: list[float]) -> None:
    index, server = domain
    index.upsert(HANDBOOK)
    server.requests.clear()
    server.fail_next = [400]

    with pytest.raises(UpstreamFailed):
        index.keyword("tenant-a", "laptops", k=1)
    assert len(server.requests) == 1
    assert sleeps == []


def test_only_throttled_bulk_items_are_sent_again(
    serverless: tuple[OpenSearchIndex, FakeOpenSearch], sleeps: list[float]
) -> None:
    # Given a collection that throttles the first item of the next bulk
    index, server = serverless
    server.throttle_bulk_items = 1

    # When three chunks are upserted
    index.upsert(HANDBOOK)

    # Then the throttled chunk alone is sent again, and each chunk is stored once
    bulks = [r for r in server.requests if r.path.endswith("/_bulk")]
    assert [len(b.body.splitlines()) for b in bulks] == [6, 2]
    assert len(sleeps) == 1
    assert sorted(source["chunk_id"] for source in server.docs(INDEX).values()) == [
        "handbook#0",
        "handbook#1",
        "policy#0",
    ]


def test_large_upserts_are_split_into_bounded_bulk_requests(
    domain: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    index, server = domain

    index.upsert([chunk("tenant-a", "big", n, f"chunk {n}") for n in range(450)])

    bulks = [r for r in server.requests if r.path.endswith("/_bulk")]
    assert [len(b.body.splitlines()) // 2 for b in bulks] == [200, 200, 50]
    assert index.count("tenant-a") == 450


def test_an_index_of_another_dimension_is_refused(target: tuple[OpenSearchIndex, FakeOpenSearch]) -> None:
    # Given an index created for 16-dimension embeddings
    index, _ = target
    index.upsert(HANDBOOK)
    other = IndexedChunk("x#0", "tenant-a", "x", "text", [1.0, 0.0, 0.0])

    # When a chunk or a query of another dimension arrives, then it is refused before any write
    with pytest.raises(ValidationFailed):
        index.upsert([other])
    with pytest.raises(ValidationFailed):
        index.vector("tenant-a", [1.0, 0.0, 0.0], k=3)
    assert index.count("tenant-a") == 3


def test_invalid_input_is_refused(target: tuple[OpenSearchIndex, FakeOpenSearch]) -> None:
    index, server = target

    with pytest.raises(ValidationFailed):
        index.keyword("", "text", k=3)
    with pytest.raises(ValidationFailed):
        index.vector("tenant-a", [float("inf")] * DIMENSION, k=3)
    with pytest.raises(ValidationFailed):
        index.upsert([IndexedChunk("", "tenant-a", "doc", "text", embed("text"))])
    assert server.requests == []


def test_counting_asks_for_an_exact_total_of_the_tenants_documents(
    target: tuple[OpenSearchIndex, FakeOpenSearch],
) -> None:
    # Given indexed chunks
    index, server = target
    index.upsert(HANDBOOK)
    server.requests.clear()

    # When one document's chunks are counted
    counted = index.count("tenant-a", "handbook")

    # Then a zero-size search with an exact total, filtered on tenant and document, answered 2
    assert counted == 2
    (request,) = server.requests
    assert request.path == f"/{INDEX}/_search"
    assert request.body == {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": [{"term": {"tenant_id": "tenant-a"}}, {"terms": {"document_id": ["handbook"]}}]}},
    }

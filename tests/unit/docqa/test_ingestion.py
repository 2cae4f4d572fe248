"""Ingestion of one object with in-memory metadata and files, the real embedded index and hash embeddings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from tests.unit.docqa.conftest import InMemoryBlobs, InMemoryDocuments

OWNERSHIP_MD = (
    Path(__file__).resolve().parents[4] / "shared/data/documents/markdown-rust-book/ch04-01-what-is-ownership.md"
)


def s3_notification(key: str, *, etag: str = "9b2cf535f27731c974343645a3985328", version: str | None = None) -> str:
    obj: dict[str, Any] = {"key": quote_plus(key), "size": 1024, "eTag": etag, "sequencer": "0055AED6DCD90281E5"}
    if version:
        obj["versionId"] = version
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": "2026-01-01T00:00:00.000Z",
                    "eventName": "ObjectCreated:Post",
                    "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "docs"}, "object": obj},
                }
            ]
        }
    )


@dataclass
class Stack:
    documents: InMemoryDocuments
    blobs: InMemoryBlobs
    index: Any
    ingestion: Any
    uploads: Any


@pytest.fixture
def stack(docqa_env: None, tmp_path: Path) -> Stack:
    from docqa.documents import DocumentService
    from docqa.ingestion import IngestionService
    from docqa.settings import get_docqa_settings
    from stratus.ai.providers.hashing import HashEmbedder
    from stratus.search.embedded import EmbeddedSearchIndex

    documents, blobs = InMemoryDocuments(), InMemoryBlobs()
    index = EmbeddedSearchIndex(tmp_path / "index")
    embedder = HashEmbedder()
    settings = get_docqa_settings()
    return Stack(
        documents,
        blobs,
        index,
        IngestionService(documents, blobs, lambda: index, lambda: embedder, settings),  # type: ignore[arg-type]
        DocumentService(documents, blobs, lambda: index, settings),  # type: ignore[arg-type]
    )


def upload(stack: Stack, data: bytes, filename: str = "ownership.md", content_type: str = "text/markdown") -> str:
    from stratus.identity import Principal

    document = stack.uploads.upload(Principal(tenant_id="tenant-a", user_id="alice"), filename, content_type, data)
    return str(document.document_id)


def chunk_ids(stack: Stack, document_id: str) -> set[str]:
    hits = stack.index.keyword("tenant-a", "ownership rules memory value owner scope", 1000, [document_id])
    return {hit.chunk_id for hit in hits}


def test_s3_notification_keys_are_url_decoded_and_the_version_id_wins_over_the_etag() -> None:
    from docqa.ingestion import parse_s3_notification

    events = parse_s3_notification(s3_notification("tenant-a/documents/doc 1+x.md", version="v-3"))

    assert [(e.key, e.version, e.size) for e in events] == [("tenant-a/documents/doc 1+x.md", "v-3", 1024)]
    assert parse_s3_notification(s3_notification("a/b"))[0].version == "9b2cf535f27731c974343645a3985328"


def test_the_s3_test_event_and_other_event_types_carry_no_objects() -> None:
    from docqa.ingestion import parse_s3_notification

    assert parse_s3_notification(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    removed = json.loads(s3_notification("a/b"))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert parse_s3_notification(json.dumps(removed)) == []


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", "{}", '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {}}]}']
)
def test_bodies_that_are_not_s3_notifications_are_malformed(body: str) -> None:
    from docqa.ingestion import MalformedNotification, parse_s3_notification

    with pytest.raises(MalformedNotification):
        parse_s3_notification(body)


def test_redelivery_after_a_crash_between_indexing_and_ready_rewrites_the_same_chunks(stack: Stack) -> None:
    # Given an upload whose first ingestion indexed the chunks, then failed to record "ready"
    document_id = upload(stack, OWNERSHIP_MD.read_bytes())
    stack.documents.fail_mark_ready = 1
    body = s3_notification(f"tenant-a/documents/{document_id}")
    with pytest.raises(ConnectionError):
        stack.ingestion.ingest_notification(body, final_attempt=False)
    assert stack.documents.find("tenant-a", document_id).status == "processing"
    first_ids = chunk_ids(stack, document_id)

    # When SQS delivers the same notification again
    assert stack.ingestion.ingest_notification(body, final_attempt=False) == ["ready"]

    # Then the index holds the same chunk ids once each, and the document is ready with that count
    ready = stack.documents.find("tenant-a", document_id)
    assert ready.status == "ready"
    assert chunk_ids(stack, document_id) == first_ids
    assert stack.index.count("tenant-a", document_id) == ready.chunks > 0
    # And a third delivery of a ready version is skipped outright
    assert stack.ingestion.ingest_notification(body, final_attempt=False) == ["duplicate"]


def test_a_new_object_version_replaces_the_chunks_of_the_old_one(stack: Stack) -> None:
    document_id = upload(stack, OWNERSHIP_MD.read_bytes())
    stack.ingestion.ingest_notification(
        s3_notification(f"tenant-a/documents/{document_id}", etag="v1"), final_attempt=False
    )
    old_ids = chunk_ids(stack, document_id)
    stack.blobs.put(
        "tenant-a",
        f"documents/{document_id}",
        b"# Ownership\n\nOwnership rules: each value has one owner.",
        "text/markdown",
    )

    stack.ingestion.ingest_notification(
        s3_notification(f"tenant-a/documents/{document_id}", etag="v2"), final_attempt=False
    )

    assert stack.index.count("tenant-a", document_id) == stack.documents.find("tenant-a", document_id).chunks == 1
    assert chunk_ids(stack, document_id).isdisjoint(old_ids)


def test_the_last_attempt_marks_the_document_failed_and_still_raises(stack: Stack) -> None:
    from stratus.errors import UpstreamUnavailable

    document_id = upload(stack, OWNERSHIP_MD.read_bytes())

    class Throttled:
        model_id, dimensions = "x", 256

        def embed(self, texts: Any) -> Any:
            raise UpstreamUnavailable("Bedrock throttled the embedding call")

    stack.ingestion._embedder = lambda: Throttled()
    body = s3_notification(f"tenant-a/documents/{document_id}")
    with pytest.raises(UpstreamUnavailable):
        stack.ingestion.ingest_notification(body, final_attempt=False)
    assert stack.documents.find("tenant-a", document_id).status == "processing"

    with pytest.raises(UpstreamUnavailable):
        stack.ingestion.ingest_notification(body, final_attempt=True)
    failed = stack.documents.find("tenant-a", document_id)
    assert failed.status == "failed" and "Bedrock throttled" in failed.failure_reason


def test_objects_without_a_document_are_ignored_or_gone(stack: Stack) -> None:
    assert stack.ingestion.ingest_notification(s3_notification("tenant-a/uploads/x.pdf"), final_attempt=False) == [
        "ignored"
    ]
    orphan = s3_notification("tenant-a/documents/doc-0123456789abcdef01234567")
    assert stack.ingestion.ingest_notification(orphan, final_attempt=False) == ["gone"]

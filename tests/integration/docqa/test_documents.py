"""Uploading, listing, reading and rejecting documents, and the ingest worker behind them."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote_plus

import pytest
from starlette.testclient import TestClient

from stratus.errors import UpstreamUnavailable
from stratus.local.embedded import EmbeddedAws
from tests.integration.conftest import TenantKey, auth
from tests.integration.docqa.conftest import (
    OWNERSHIP_MD,
    REFERENCES_MD,
    document,
    upload_file,
)
from tests.unit.layer.ingest.conftest import build_pdf

BUCKET = "DocqaBucket"


def objects_of(aws: EmbeddedAws, tenant_id: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=aws.physical_name(BUCKET), Prefix=f"{tenant_id}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def chunks_in_index(tenant_id: str, document_id: str) -> int:
    from stratus.search import get_search_index

    return get_search_index().count(tenant_id, document_id)


class SpyEmbedder:
    """Hash embeddings, plus a look at the document through the API each time the worker embeds."""

    def __init__(self, on_embed: Callable[[Sequence[str]], None]) -> None:
        from stratus.ai.providers.hashing import HashEmbedder

        self._inner = HashEmbedder()
        self._on_embed = on_embed

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    def embed(self, texts: Sequence[str]) -> Any:
        self._on_embed(texts)
        return self._inner.embed(texts)


def use_embedder(monkeypatch: pytest.MonkeyPatch, embedder: SpyEmbedder) -> None:
    """The worker's composition root builds its service with this embedder."""
    import docqa.worker
    from docqa.wiring import make_ingestion_service

    monkeypatch.setattr(docqa.worker, "ingestion_service", lambda: make_ingestion_service(embedder=lambda: embedder))


def test_multipart_upload_goes_pending_processing_ready(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker whose embedding step lets us look at the document while it runs
    seen_while_embedding: list[str] = []
    use_embedder(
        monkeypatch,
        SpyEmbedder(lambda texts: seen_while_embedding.append(document(client, tenant_a, uploaded["id"])["status"])),
    )

    # When a Markdown chapter is uploaded as multipart/form-data
    uploaded = upload_file(client, tenant_a, OWNERSHIP_MD, "text/markdown")

    # Then it is pending, with its file stored under the tenant's prefix
    assert uploaded["status"] == "pending" and uploaded["upload_method"] == "multipart"
    assert uploaded["size_bytes"] == OWNERSHIP_MD.stat().st_size
    assert objects_of(aws, tenant_a.tenant_id) == [f"{tenant_a.tenant_id}/documents/{uploaded['id']}"]
    listed = client.get("/docqa/documents", headers=auth(tenant_a)).json()["items"]
    assert [(d["id"], d["status"]) for d in listed] == [(uploaded["id"], "pending")]

    # When the S3 notification reaches the worker through SQS
    aws.drain_queues()

    # Then the document was "processing" while it was embedded, and is ready now
    assert seen_while_embedding and set(seen_while_embedding) == {"processing"}
    ready = document(client, tenant_a, uploaded["id"])
    assert ready["status"] == "ready"
    assert ready["title"] == "What Is Ownership?"
    assert ready["pages"] == 1 and ready["chunks"] > 10
    assert ready["content_type"] == "text/markdown"
    assert ready["object_version"] and ready["ready_at"] and ready["version"] > uploaded["version"]
    assert chunks_in_index(tenant_a.tenant_id, uploaded["id"]) == ready["chunks"]


def test_presigned_upload_ticket_is_bound_to_the_document_key_type_and_size(
    client: TestClient, tenant_a: TenantKey
) -> None:
    response = client.post(
        "/docqa/documents",
        headers=auth(tenant_a),
        json={"filename": "../../etc/report.pdf", "content_type": "application/pdf", "size_bytes": 1234},
    )

    assert response.status_code == 201
    created = response.json()
    fields = created["upload"]["fields"]
    assert fields["key"] == f"{tenant_a.tenant_id}/documents/{created['document']['id']}"
    assert fields["Content-Type"] == "application/pdf"
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert ["content-length-range", 1, 1234] in policy["conditions"]
    assert created["document"]["filename"] == "report.pdf"


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"files": {"file": ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")}}, 415),
        ({"files": {"file": ("notes.docx", b"PK\x03\x04" + b"\x00" * 64, "application/octet-stream")}}, 415),
        ({"json": {"filename": "photo.png", "content_type": "image/png", "size_bytes": 10}}, 415),
        ({"content": b"plain body", "headers": {"content-type": "text/plain"}}, 415),
        ({"json": {"filename": "big.pdf", "content_type": "application/pdf", "size_bytes": 10**9}}, 413),
        ({"json": {"filename": "x.pdf", "content_type": "application/pdf", "size_bytes": 0}}, 422),
        ({"json": {"filename": "x.pdf"}}, 422),
        ({"data": {"not_file": "x"}, "files": {"other": ("a.txt", b"a", "text/plain")}}, 422),
    ],
    ids=["png", "zip-as-docx", "presigned-png", "raw-body", "presigned-too-large", "zero-size", "no-type", "no-file"],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, request_kwargs: dict[str, Any], status: int
) -> None:
    headers = {**auth(tenant_a), **request_kwargs.pop("headers", {})}

    response = client.post("/docqa/documents", headers=headers, **request_kwargs)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/docqa/documents", headers=auth(tenant_a)).json()["items"] == []
    assert objects_of(aws, tenant_a.tenant_id) == []


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "reason", "code"),
    [
        ("empty.txt", "text/plain", b"", "file is empty", "empty"),
        (
            "broken.pdf",
            "application/pdf",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage",
            "PDF is corrupt",
            "corrupt",
        ),
        ("secret.pdf", "application/pdf", build_pdf([["top secret"]], user_password="pw"), "encrypted", "encrypted"),
        ("blank.md", "text/markdown", b"   \n\n  \n", "no text", "no-text"),
    ],
    ids=["empty", "corrupt-pdf", "encrypted-pdf", "whitespace-only"],
)
def test_unusable_files_end_failed_with_the_reason_and_nothing_indexed(
    aws: EmbeddedAws,
    client: TestClient,
    tenant_a: TenantKey,
    filename: str,
    content_type: str,
    data: bytes,
    reason: str,
    code: str,
) -> None:
    # Given an upload the API accepts (its type is supported)
    response = client.post("/docqa/documents", headers=auth(tenant_a), files={"file": (filename, data, content_type)})
    assert response.status_code == 202, response.text
    document_id = response.json()["document"]["id"]

    # When the worker reads it
    aws.drain_queues()

    # Then the document failed with a reason a user can act on, and no chunk exists
    failed = document(client, tenant_a, document_id)
    assert failed["status"] == "failed"
    assert reason in failed["failure_reason"] and failed["failure_code"] == code
    assert failed["chunks"] == 0 and chunks_in_index(tenant_a.tenant_id, document_id) == 0
    failed_only = client.get("/docqa/documents", headers=auth(tenant_a), params={"status": "failed"}).json()
    assert [d["id"] for d in failed_only["items"]] == [document_id]


def test_list_pages_with_a_cursor_newest_first_and_filters_by_status(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    ids = [upload_file(client, tenant_a, path, "text/markdown")["id"] for path in (OWNERSHIP_MD, REFERENCES_MD)]
    ids.append(
        client.post(
            "/docqa/documents", headers=auth(tenant_a), files={"file": ("empty.txt", b"", "text/plain")}
        ).json()["document"]["id"]
    )
    aws.drain_queues()

    first = client.get("/docqa/documents", headers=auth(tenant_a), params={"limit": 2}).json()
    second = client.get(
        "/docqa/documents", headers=auth(tenant_a), params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    ready = client.get("/docqa/documents", headers=auth(tenant_a), params={"status": "ready"}).json()

    assert [d["id"] for d in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert sorted(d["id"] for d in ready["items"]) == sorted(ids[:2])
    assert client.get("/docqa/documents", headers=auth(tenant_a), params={"status": "lost"}).status_code == 422
    assert client.get("/docqa/documents", headers=auth(tenant_a), params={"cursor": "junk"}).status_code == 422


def test_unknown_documents_are_404_and_delete_is_idempotent(client: TestClient, tenant_a: TenantKey) -> None:
    for document_id in ("doc-0123456789abcdef01234567", "nonsense", "conv-0123456789abcdef01234567"):
        assert client.get(f"/docqa/documents/{document_id}", headers=auth(tenant_a)).status_code == 404
        assert client.delete(f"/docqa/documents/{document_id}", headers=auth(tenant_a)).status_code == 204


def test_every_route_but_health_needs_credentials(client: TestClient) -> None:
    assert client.get("/docqa/health").json()["status"] == "ok"
    for method, path in (
        ("GET", "/docqa/documents"),
        ("POST", "/docqa/documents"),
        ("GET", "/docqa/documents/doc-0123456789abcdef01234567"),
        ("DELETE", "/docqa/documents/doc-0123456789abcdef01234567"),
        ("POST", "/docqa/query"),
        ("GET", "/docqa/query/conv-0123456789abcdef01234567/history"),
        ("GET", "/docqa/conversations"),
        ("DELETE", "/docqa/conversations/conv-0123456789abcdef01234567"),
    ):
        response = client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == "application/problem+json"


def test_redelivered_s3_event_creates_no_duplicate_chunks(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey
) -> None:
    # Given an upload whose S3 notification SQS delivers twice (at-least-once)
    sqs = aws.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=aws.physical_name("DocqaIngestQueue"))["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue_url)  # the bucket's s3:TestEvent
    uploaded = upload_file(client, tenant_a, OWNERSHIP_MD, "text/markdown")
    message = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"][0]
    sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])

    # When both deliveries are processed, then the same notification once more after the document is ready
    aws.drain_queues()
    ready = document(client, tenant_a, uploaded["id"])
    sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
    aws.drain_queues()

    # Then the index holds each chunk once, and the document was not re-ingested
    assert ready["status"] == "ready"
    assert chunks_in_index(tenant_a.tenant_id, uploaded["id"]) == ready["chunks"]
    again = document(client, tenant_a, uploaded["id"])
    assert (again["version"], again["chunks"], again["updated_at"]) == (
        ready["version"],
        ready["chunks"],
        ready["updated_at"],
    )


def test_one_failing_document_is_retried_alone_then_parked_in_the_dlq_as_failed(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an embedding provider that is always throttled for one of two documents
    def throttle_references(texts: Sequence[str]) -> None:
        if any("borrowing" in text.lower() for text in texts):
            raise UpstreamUnavailable("embedding provider throttled: ThrottlingException")

    use_embedder(monkeypatch, SpyEmbedder(throttle_references))
    good = upload_file(client, tenant_a, OWNERSHIP_MD, "text/markdown")
    bad = upload_file(client, tenant_a, REFERENCES_MD, "text/markdown")

    # When the worker drains the queue (both notifications arrive in one batch)
    aws.drain_queues()

    # Then the good document is ready: the failure of its batch mate did not re-drive it
    assert document(client, tenant_a, good["id"])["status"] == "ready"
    assert chunks_in_index(tenant_a.tenant_id, good["id"]) == document(client, tenant_a, good["id"])["chunks"]
    # And the other was retried up to maxReceiveCount, marked failed on its last attempt, and sits in the DLQ
    failed = document(client, tenant_a, bad["id"])
    assert failed["status"] == "failed" and failed["failure_code"] == "ingestion-error"
    assert failed["failure_reason"].startswith("ingestion failed after 5 attempts")
    assert "throttled" in failed["failure_reason"]
    assert chunks_in_index(tenant_a.tenant_id, bad["id"]) == 0
    sqs = aws.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName=aws.physical_name("DocqaIngestDLQ"))["QueueUrl"]
    parked = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [unquote_plus(json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"]) for m in parked] == [
        f"{tenant_a.tenant_id}/documents/{bad['id']}"
    ]


def test_a_document_deleted_during_ingestion_leaves_no_chunks(
    aws: EmbeddedAws, client: TestClient, tenant_a: TenantKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a document deleted by its owner while the worker is embedding it
    def delete_now(texts: Sequence[str]) -> None:
        assert client.delete(f"/docqa/documents/{uploaded['id']}", headers=auth(tenant_a)).status_code == 204

    use_embedder(monkeypatch, SpyEmbedder(delete_now))
    uploaded = upload_file(client, tenant_a, OWNERSHIP_MD, "text/markdown")

    # When the worker finishes
    aws.drain_queues()

    # Then nothing of it remains: no metadata, no object, no chunk
    assert client.get(f"/docqa/documents/{uploaded['id']}", headers=auth(tenant_a)).status_code == 404
    assert objects_of(aws, tenant_a.tenant_id) == []
    assert chunks_in_index(tenant_a.tenant_id, uploaded["id"]) == 0

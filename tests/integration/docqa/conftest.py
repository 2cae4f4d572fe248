"""docqa on the embedded AWS: real documents, uploads through the dev gateway, the real ingest worker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from tests.integration.conftest import TenantKey, auth

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "documents"
RFC2616_PDF = DATA / "pdf" / "rfc2616.pdf"
OWNERSHIP_MD = DATA / "markdown-rust-book" / "ch04-01-what-is-ownership.md"
REFERENCES_MD = DATA / "markdown-rust-book" / "ch04-02-references-and-borrowing.md"

# The embedded stack of tests/integration/conftest.py: hash embeddings and an embedded index, offline model.
STACK_ENVIRONMENT = {"EMBEDDING_PROVIDER": "hash", "SEARCH_BACKEND": "embedded"}


def upload_file(client: TestClient, key: TenantKey, path: Path, content_type: str) -> dict[str, Any]:
    """Multipart upload; returns the document as the API answered (status pending)."""
    response = client.post(
        "/docqa/documents", headers=auth(key), files={"file": (path.name, path.read_bytes(), content_type)}
    )
    assert response.status_code == 202, response.text
    document: dict[str, Any] = response.json()["document"]
    return document


def upload_presigned(client: TestClient, key: TenantKey, path: Path, content_type: str) -> dict[str, Any]:
    """Ask for a presigned POST, then send the file straight to S3 as a browser or curl would."""
    import requests

    data = path.read_bytes()
    response = client.post(
        "/docqa/documents",
        headers=auth(key),
        json={"filename": path.name, "content_type": content_type, "size_bytes": len(data)},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    upload = created["upload"]
    s3 = requests.post(
        upload["url"], data=upload["fields"], files={"file": (path.name, data, content_type)}, timeout=60
    )
    assert s3.status_code in (200, 201, 204), s3.text
    document: dict[str, Any] = created["document"]
    return document


def document(client: TestClient, key: TenantKey, document_id: str) -> dict[str, Any]:
    response = client.get(f"/docqa/documents/{document_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def ask(client: TestClient, key: TenantKey, question: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/docqa/query", headers=auth(key), json={"question": question, **extra})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@dataclass(frozen=True)
class Stack:
    aws: EmbeddedAws
    client: TestClient


@pytest.fixture(scope="module")
def docqa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One embedded AWS per module (starting one costs seconds); tests keep apart by using their own tenants."""
    from stratus.local.devserver import build_gateway

    environment = {**STACK_ENVIRONMENT, "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("docqa-search"))}
    with EmbeddedAws(environment=environment) as aws, TestClient(build_gateway(aws.template)) as client:
        yield Stack(aws, client)


def new_tenant(user: str) -> TenantKey:
    from stratus.identity import get_identity_service

    identity = get_identity_service()
    tenant_id = f"t-{uuid.uuid4().hex[:12]}"
    identity.ensure_tenant(tenant_id)
    return TenantKey(tenant_id, identity.issue_api_key(tenant_id, user, roles=("member",))[1])


@pytest.fixture
def aws(docqa_stack: Stack) -> EmbeddedAws:
    return docqa_stack.aws


@pytest.fixture
def client(docqa_stack: Stack) -> TestClient:
    return docqa_stack.client


@pytest.fixture
def tenant_a(docqa_stack: Stack) -> TenantKey:
    """A tenant of its own for every test, so tests sharing the module's stack never see each other."""
    return new_tenant("alice")


@dataclass(frozen=True)
class Library:
    """Tenant A's RFC 2616 PDF and Rust-book chapter, ingested once per module; tenant B has nothing."""

    aws: EmbeddedAws
    client: TestClient
    tenant_a: TenantKey
    tenant_b: TenantKey
    rfc2616: dict[str, Any]
    ownership: dict[str, Any]


@pytest.fixture(scope="module")
def library(docqa_stack: Stack) -> Library:
    client = docqa_stack.client
    tenant_a, tenant_b = new_tenant("alice"), new_tenant("bob")
    rfc2616 = upload_presigned(client, tenant_a, RFC2616_PDF, "application/pdf")
    ownership = upload_file(client, tenant_a, OWNERSHIP_MD, "text/markdown")
    docqa_stack.aws.drain_queues()
    return Library(
        docqa_stack.aws,
        client,
        tenant_a,
        tenant_b,
        document(client, tenant_a, rfc2616["id"]),
        document(client, tenant_a, ownership["id"]),
    )

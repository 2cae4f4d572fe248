"""In-memory fakes of the docqa ports, and docqa settings from a clean environment."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratus.cache import reset_containers


@pytest.fixture
def docqa_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("DOCQA_BUCKET", "docs")
    monkeypatch.setenv("DOCQA_DOCUMENTS_TABLE", "documents")
    monkeypatch.setenv("DOCQA_CONVERSATIONS_TABLE", "conversations")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "search"))
    monkeypatch.setenv("EMBEDDING_PROVIDER", "hash")
    reset_containers()
    yield
    reset_containers()


class InMemoryDocuments:
    """The DocumentRepository port over a dict; ``fail_mark_ready`` simulates a crash after indexing."""

    def __init__(self) -> None:
        from docqa.domain import Document

        self.items: dict[tuple[str, str], Document] = {}
        self.fail_mark_ready = 0

    def create(self, document: Any) -> None:
        self.items[(document.tenant_id, document.document_id)] = document

    def find(self, tenant_id: str, document_id: str) -> Any:
        return self.items.get((tenant_id, document_id))

    def list(self, tenant_id: str, limit: int, position: Any, status: Any) -> Any:
        found = [d for (t, _), d in sorted(self.items.items(), reverse=True) if t == tenant_id]
        return [d for d in found if status in (None, d.status)][:limit], None

    def _change(self, tenant_id: str, document_id: str, **changes: Any) -> Any:
        from docqa.repository import DocumentGone

        current = self.items.get((tenant_id, document_id))
        if current is None:
            raise DocumentGone(document_id)
        updated = dataclasses.replace(current, version=current.version + 1, **changes)
        self.items[(tenant_id, document_id)] = updated
        return updated

    def mark_processing(self, tenant_id: str, document_id: str, object_version: str, size_bytes: int | None) -> None:
        self._change(tenant_id, document_id, status="processing", object_version=object_version)

    def mark_ready(self, tenant_id: str, document_id: str, *, title: str | None, pages: int, chunks: int) -> Any:
        if self.fail_mark_ready:
            self.fail_mark_ready -= 1
            raise ConnectionError("DynamoDB went away")
        return self._change(tenant_id, document_id, status="ready", title=title, pages=pages, chunks=chunks)

    def mark_failed(self, tenant_id: str, document_id: str, *, reason: str, code: str) -> None:
        self._change(tenant_id, document_id, status="failed", failure_reason=reason, failure_code=code, chunks=0)

    def delete(self, tenant_id: str, document_id: str) -> None:
        self.items.pop((tenant_id, document_id), None)


class InMemoryBlobs:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, tenant_id: str, relative_key: str, body: bytes, content_type: str) -> str:
        self.objects[f"{tenant_id}/{relative_key}"] = body
        return f"{tenant_id}/{relative_key}"

    def get(self, tenant_id: str, relative_key: str) -> bytes:
        from stratus.errors import NotFound

        try:
            return self.objects[f"{tenant_id}/{relative_key}"]
        except KeyError:
            raise NotFound(relative_key) from None

    def delete(self, tenant_id: str, relative_key: str) -> None:
        self.objects.pop(f"{tenant_id}/{relative_key}", None)


class InMemoryConversations:
    """The ConversationRepository port over dicts."""

    def __init__(self) -> None:
        self.conversations: dict[tuple[str, str], Any] = {}
        self.messages: dict[tuple[str, str], list[Any]] = {}

    def create(self, conversation: Any) -> None:
        self.conversations[(conversation.tenant_id, conversation.conversation_id)] = conversation

    def find(self, tenant_id: str, conversation_id: str) -> Any:
        return self.conversations.get((tenant_id, conversation_id))

    def conversations(self, tenant_id: str, limit: int, position: Any) -> Any:
        return [c for (t, _), c in self.conversations.items() if t == tenant_id][:limit], None

    def delete(self, tenant_id: str, conversation_id: str) -> int:
        self.conversations.pop((tenant_id, conversation_id), None)
        return len(self.messages.pop((tenant_id, conversation_id), []))

    def add_message(self, tenant_id: str, message: Any) -> None:
        self.messages.setdefault((tenant_id, message.conversation_id), []).append(message)

    def mark_unanswered(self, tenant_id: str, conversation_id: str, message_id: str, reason: str) -> None:
        stored = self.messages[(tenant_id, conversation_id)]
        stored[:] = [dataclasses.replace(m, failure_reason=reason) if m.message_id == message_id else m for m in stored]

    def recent_messages(self, tenant_id: str, conversation_id: str, count: int) -> list[Any]:
        return self.messages.get((tenant_id, conversation_id), [])[-count:]

    def messages_of(self, tenant_id: str, conversation_id: str) -> list[Any]:
        return list(self.messages.get((tenant_id, conversation_id), []))

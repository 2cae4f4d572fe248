"""The docqa domain: documents, conversations and messages as plain values, and their identifiers."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

DocumentStatus = Literal["pending", "processing", "ready", "failed"]
UploadMethod = Literal["multipart", "presigned"]
Role = Literal["user", "assistant"]

DOCUMENT_STATUSES: tuple[DocumentStatus, ...] = ("pending", "processing", "ready", "failed")

_ID = re.compile(r"^(doc|conv|msg)-[0-9a-f]{24}$")


def new_id(kind: Literal["doc", "conv", "msg"]) -> str:
    """``<kind>-`` + 12 hex digits of milliseconds + 12 random: unguessable, and sorted by creation time."""
    return f"{kind}-{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}"


def is_id(value: str, kind: Literal["doc", "conv", "msg"]) -> bool:
    return bool(_ID.fullmatch(value)) and value.startswith(kind + "-")


def utcnow() -> datetime:
    return datetime.now(UTC)


def object_key(document_id: str) -> str:
    """The document's S3 key below its tenant's prefix: ``<tenant>/documents/<id>``."""
    return f"documents/{document_id}"


def document_id_of_key(key: str) -> tuple[str, str] | None:
    """``(tenant, document id)`` of a full object key, or None for keys docqa did not hand out."""
    parts = key.split("/")
    if len(parts) != 3 or parts[1] != "documents" or not is_id(parts[2], "doc"):
        return None
    return parts[0], parts[2]


@dataclass(frozen=True, slots=True)
class Document:
    tenant_id: str
    document_id: str
    filename: str
    content_type: str
    status: DocumentStatus
    upload_method: UploadMethod
    created_at: datetime
    updated_at: datetime
    version: int = 1
    size_bytes: int | None = None
    title: str | None = None
    pages: int | None = None
    chunks: int | None = None
    object_version: str | None = None
    failure_reason: str | None = None
    failure_code: str | None = None
    ready_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    tenant_id: str
    conversation_id: str
    created_at: datetime
    title: str


@dataclass(frozen=True, slots=True)
class Citation:
    citation_id: int
    document_id: str
    page: int | None
    chunk_id: str
    chunk_index: int
    score: float
    snippet: str
    filename: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "citation_id": self.citation_id,
            "document_id": self.document_id,
            "filename": self.filename,
            "page": self.page,
            "chunk_id": self.chunk_id,
            "chunk_index": self.chunk_index,
            "score": self.score,
            "snippet": self.snippet,
        }


@dataclass(frozen=True, slots=True)
class Message:
    conversation_id: str
    message_id: str
    role: Role
    content: str
    created_at: datetime
    citations: tuple[Citation, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)
    standalone_question: str | None = None
    failure_reason: str | None = None

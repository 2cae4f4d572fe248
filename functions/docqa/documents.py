"""Documents: upload (multipart or presigned S3 POST), read, list and delete; ingestion happens in the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from docqa.domain import Document, DocumentStatus, UploadMethod, is_id, new_id, object_key, utcnow
from docqa.settings import DocqaSettings
from stratus.errors import NotFound, PayloadTooLarge
from stratus.identity import Principal
from stratus.observability import logger

if TYPE_CHECKING:
    from docqa.repository import DocumentRepository, Position
    from stratus.search import SearchIndex
    from stratus.storage import BlobStore, PresignedUpload

MAX_FILENAME_CHARS = 255


@dataclass(frozen=True, slots=True)
class UploadTicket:
    document: Document
    upload: PresignedUpload


def clean_filename(filename: str | None) -> str:
    """The last path component, trimmed to a sane length; ``document`` when nothing usable is left."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[-MAX_FILENAME_CHARS:] or "document"


class DocumentService:
    def __init__(
        self,
        documents: DocumentRepository,
        blobs: BlobStore,
        search_index: Callable[[], SearchIndex],
        settings: DocqaSettings,
    ) -> None:
        self._documents = documents
        self._blobs = blobs
        self._search_index = search_index
        self._settings = settings

    def upload(self, principal: Principal, filename: str | None, declared_type: str | None, data: bytes) -> Document:
        """Store the bytes and register the document as ``pending``; the S3 event starts its ingestion.

        The type is checked here (415) so nothing is stored for a file no parser handles; whether the
        file's content is usable (empty, encrypted, corrupt) is the worker's verdict, kept on the document.
        """
        from stratus.ingest import detect_content_type  # parsers load on first upload, not at cold start

        name = clean_filename(filename)
        content_type = detect_content_type(data, declared_type, name)
        self._check_size(len(data))
        document = self._new_document(principal, name, content_type, "multipart", len(data))
        self._documents.create(document)
        try:
            self._blobs.put(principal.tenant_id, object_key(document.document_id), data, content_type)
        except Exception:
            self._documents.delete(principal.tenant_id, document.document_id)  # nothing half-written
            raise
        logger.info("document uploaded", extra={"document_id": document.document_id, "bytes": len(data)})
        return document

    def request_upload(self, principal: Principal, filename: str, declared_type: str, size_bytes: int) -> UploadTicket:
        """A presigned POST for one object of at most ``size_bytes`` with exactly this content type."""
        from stratus.ingest import detect_content_type

        name = clean_filename(filename)
        content_type = detect_content_type(b"", declared_type, name)
        self._check_size(size_bytes)
        document = self._new_document(principal, name, content_type, "presigned", size_bytes)
        upload = self._blobs.presigned_upload(
            principal.tenant_id,
            object_key(document.document_id),
            content_type,
            max_bytes=size_bytes,
            expires_in_s=self._settings.docqa_presign_expires_s,
        )
        self._documents.create(document)
        return UploadTicket(document, upload)

    def get(self, principal: Principal, document_id: str) -> Document:
        document = self._documents.find(principal.tenant_id, document_id) if is_id(document_id, "doc") else None
        if document is None:
            raise NotFound(f"document {document_id} not found", document_id=document_id)
        return document

    def list(
        self, principal: Principal, limit: int, position: Position | None, status: DocumentStatus | None
    ) -> tuple[list[Document], Position | None]:
        return self._documents.list(principal.tenant_id, limit, position, status)

    def delete(self, principal: Principal, document_id: str) -> None:
        """Chunks, then the object, then the metadata: a retry after a failure finishes the job (idempotent)."""
        tenant_id = principal.tenant_id
        if not is_id(document_id, "doc") or self._documents.find(tenant_id, document_id) is None:
            return  # never existed, or a previous delete finished: the metadata goes last
        removed = self._search_index().delete_document(tenant_id, document_id)
        self._blobs.delete(tenant_id, object_key(document_id))
        self._documents.delete(tenant_id, document_id)
        logger.info("document deleted", extra={"document_id": document_id, "chunks_removed": removed})

    def _check_size(self, size_bytes: int) -> None:
        limit = self._settings.ingest_max_document_bytes
        if size_bytes > limit:
            raise PayloadTooLarge(
                f"document is {size_bytes} bytes; the limit is {limit} bytes", size_bytes=size_bytes, limit=limit
            )

    @staticmethod
    def _new_document(
        principal: Principal, filename: str, content_type: str, method: UploadMethod, size_bytes: int
    ) -> Document:
        now = utcnow()
        return Document(
            tenant_id=principal.tenant_id,
            document_id=new_id("doc"),
            filename=filename,
            content_type=content_type,
            status="pending",
            upload_method=method,
            created_at=now,
            updated_at=now,
            size_bytes=size_bytes,
        )

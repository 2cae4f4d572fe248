"""Ingestion of one uploaded object: parse, chunk, embed, index, with the document's status kept current.

At-least-once: S3 may notify twice and SQS may deliver twice. Chunk ids derive from (tenant, document,
object version, index), so re-ingesting the same version rewrites the same index entries; a version
already ``ready`` or ``failed`` is skipped outright.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote_plus

from docqa.domain import Document, document_id_of_key, object_key
from docqa.repository import DocumentGone, DocumentRepository
from docqa.settings import DocqaSettings
from stratus.errors import NotFound, StratusError, UnsupportedMediaType
from stratus.ingest import DocumentRejected, chunk_id, get_chunker, parse_document
from stratus.ingest.detect import MARKDOWN
from stratus.observability import logger
from stratus.storage import BlobStore

if TYPE_CHECKING:
    from stratus.ai import Embedder
    from stratus.ingest import Chunk, Chunker, ParsedDocument
    from stratus.search import IndexedChunk, SearchIndex
    from stratus.search.models import Embedding

IngestOutcome = Literal["ready", "failed", "duplicate", "gone", "ignored"]

# Texts per embedding call: bounds memory and the size of one provider request.
EMBED_SLICE = 256


@dataclass(frozen=True, slots=True)
class ObjectCreated:
    bucket: str
    key: str
    size: int | None
    version: str


class MalformedNotification(ValueError):
    """The message is not an S3 event notification: retrying cannot fix it."""


def parse_s3_notification(body: str) -> list[ObjectCreated]:
    """The ObjectCreated records of an S3 event notification (keys URL-decoded); [] for ``s3:TestEvent``."""
    try:
        message = json.loads(body)
    except ValueError as error:
        raise MalformedNotification("SQS message body is not JSON") from error
    if not isinstance(message, dict):
        raise MalformedNotification("SQS message body is not an S3 event notification")
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list):
        raise MalformedNotification("S3 event notification has no Records")
    created = []
    for record in records:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        key = obj.get("key")
        if not isinstance(key, str):
            raise MalformedNotification("S3 record without an object key")
        # Without bucket versioning (the local stack) the ETag names the content, so it stands in for the version.
        version = obj.get("versionId") or obj.get("eTag") or obj.get("sequencer") or ""
        created.append(
            ObjectCreated(
                bucket=str((s3.get("bucket") or {}).get("name", "")),
                key=unquote_plus(key),
                size=int(obj["size"]) if isinstance(obj.get("size"), int) else None,
                version=str(version),
            )
        )
    return created


class IngestionService:
    def __init__(
        self,
        documents: DocumentRepository,
        blobs: BlobStore,
        search_index: Callable[[], SearchIndex],
        embedder: Callable[[], Embedder],
        settings: DocqaSettings,
    ) -> None:
        self._documents = documents
        self._blobs = blobs
        self._search_index = search_index
        self._embedder = embedder
        self._settings = settings

    def ingest_notification(self, body: str, *, final_attempt: bool) -> list[IngestOutcome]:
        """Every object of one S3 notification; transient failures raise so the message is retried."""
        return [self.ingest_object(event, final_attempt=final_attempt) for event in parse_s3_notification(body)]

    def ingest_object(self, event: ObjectCreated, *, final_attempt: bool = False) -> IngestOutcome:
        owner = document_id_of_key(event.key)
        if owner is None:
            logger.warning("ignoring an object docqa did not hand out", extra={"key": event.key})
            return "ignored"
        tenant_id, document_id = owner
        try:
            return self.ingest(tenant_id, document_id, event.version, event.size)
        except StratusError as error:
            if final_attempt:
                self._give_up(tenant_id, document_id, error.detail)
            raise
        except Exception as error:
            if final_attempt:
                self._give_up(tenant_id, document_id, f"{type(error).__name__}: {error}")
            raise

    def ingest(self, tenant_id: str, document_id: str, version: str, size: int | None) -> IngestOutcome:
        document = self._documents.find(tenant_id, document_id)
        if document is None:
            # Its metadata is written before the object can be: the document was deleted, so is the late object.
            logger.info("document was deleted before ingestion", extra={"document_id": document_id})
            self._blobs.delete(tenant_id, object_key(document_id))
            return "gone"
        if document.object_version == version and document.status in ("ready", "failed"):
            logger.info("object version already ingested", extra={"document_id": document_id, "version": version})
            return "duplicate"
        try:
            self._documents.mark_processing(tenant_id, document_id, version, size)
            data = self._blobs.get(tenant_id, object_key(document_id))
        except (DocumentGone, NotFound):
            return "gone"
        try:
            parsed = parse_document(data, document.content_type, document.filename, settings=self._settings)
            chunks = self._chunker(parsed).chunk(parsed)
            if not chunks:
                raise DocumentRejected("document has no text", code="no-text")
        except (DocumentRejected, UnsupportedMediaType) as rejected:
            code = rejected.code if isinstance(rejected, DocumentRejected) else "unsupported-type"
            return self._fail(tenant_id, document_id, rejected.detail, code)
        indexed = self._indexed_chunks(document, version, chunks)
        index = self._search_index()
        if document.object_version not in (None, version):
            index.delete_document(tenant_id, document_id)  # chunks of an older version of the object
        index.upsert(indexed)
        try:
            self._documents.mark_ready(
                tenant_id, document_id, title=parsed.title, pages=parsed.page_count, chunks=len(indexed)
            )
        except DocumentGone:
            index.delete_document(tenant_id, document_id)  # deleted while we were indexing: leave nothing
            return "gone"
        logger.info(
            "document ready",
            extra={"document_id": document_id, "pages": parsed.page_count, "chunks": len(indexed)},
        )
        return "ready"

    def _chunker(self, parsed: ParsedDocument) -> Chunker:
        if parsed.content_type == MARKDOWN:
            return get_chunker("markdown", settings=self._settings)
        return get_chunker(settings=self._settings)

    def _indexed_chunks(self, document: Document, version: str, chunks: Sequence[Chunk]) -> list[IndexedChunk]:
        from stratus.search import IndexedChunk

        embedder = self._embedder()
        texts = [chunk.contextual_text() for chunk in chunks]
        vectors: list[Embedding] = []
        for start in range(0, len(texts), EMBED_SLICE):
            vectors.extend(embedder.embed(texts[start : start + EMBED_SLICE]))
        return [
            IndexedChunk(
                chunk_id=chunk_id(document.tenant_id, document.document_id, version, chunk.index),
                tenant_id=document.tenant_id,
                document_id=document.document_id,
                text=chunk.text,
                embedding=vector,
                page=chunk.page,
                chunk_index=chunk.index,
                metadata={
                    "filename": document.filename,
                    "heading": " > ".join(chunk.heading_path),
                    "start": str(chunk.start_offset),
                    "end": str(chunk.end_offset),
                },
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        ]

    def _fail(self, tenant_id: str, document_id: str, reason: str, code: str) -> IngestOutcome:
        try:
            self._documents.mark_failed(tenant_id, document_id, reason=reason, code=code)
        except DocumentGone:
            return "gone"
        logger.info("document rejected", extra={"document_id": document_id, "reason": reason, "code": code})
        return "failed"

    def _give_up(self, tenant_id: str, document_id: str, detail: str) -> None:
        attempts = self._settings.docqa_ingest_max_receives
        logger.error("ingestion failed on its last attempt", extra={"document_id": document_id, "detail": detail})
        with contextlib.suppress(DocumentGone):
            self._documents.mark_failed(
                tenant_id,
                document_id,
                reason=f"ingestion failed after {attempts} attempts: {detail}",
                code="ingestion-error",
            )

"""Embedded `SearchIndex`: tantivy for BM25 and stored chunks, numpy for vectors, both on local disk.

Layout under the index directory:
- ``text-v1/``: one tantivy index for every tenant; tenant and document are raw (exact) fields that
  every query filters on, ``text`` uses tantivy's English stemming tokenizer (``en_stem``).
- ``vectors-v1/<tenant>.npz``: the tenant's unit-normalised float32 matrix with its chunk and document
  ids, rewritten whole (write then rename) after each change, so deletes compact it.

Tantivy is the source of truth for chunk payloads: a vector row whose chunk it no longer holds
(a crash between the two writes) is never returned. One lock serialises writers inside the process;
tantivy's own lock file serialises processes. Readers never take the lock.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import tantivy

from stratus.errors import ValidationFailed
from stratus.search.models import (
    Embedding,
    IndexedChunk,
    SearchHit,
    require_k,
    require_tenant,
    validate_chunk,
)
from stratus.search.query_text import sanitize_query

if TYPE_CHECKING:
    import numpy.typing as npt

    FloatMatrix = npt.NDArray[np.float32]
    IntVector = npt.NDArray[np.int64]

_SCHEMA_VERSION = "v1"
_SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
_WRITER_HEAP_BYTES = 50_000_000
_WRITER_ATTEMPTS = 50
_WRITER_RETRY_S = 0.02


def _build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in ("uid", "chunk_id", "tenant_id", "document_id"):
        builder.add_text_field(name, stored=name != "uid", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
    builder.add_integer_field("page", stored=True)
    builder.add_integer_field("chunk_index", stored=True)
    builder.add_bytes_field("metadata", stored=True)
    return builder.build()


def _english_analyzer() -> tantivy.TextAnalyzer:
    """The same pipeline as tantivy's ``en_stem``, for building term queries by hand."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _uid(tenant_id: str, chunk_id: str) -> str:
    """Chunk ids are unique per tenant only, so the index key carries both."""
    return json.dumps([tenant_id, chunk_id])


@dataclass(frozen=True, slots=True)
class _TenantVectors:
    """An immutable snapshot: writers replace it whole, readers use whichever one they picked up."""

    matrix: FloatMatrix
    chunk_ids: tuple[str, ...]
    document_ids: tuple[str, ...]
    rows_by_document: Mapping[str, IntVector]
    stamp: tuple[int, int, int]

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])

    @classmethod
    def build(
        cls,
        matrix: FloatMatrix,
        chunk_ids: Sequence[str],
        document_ids: Sequence[str],
        stamp: tuple[int, int, int],
    ) -> _TenantVectors:
        rows: dict[str, list[int]] = {}
        for row, document_id in enumerate(document_ids):
            rows.setdefault(document_id, []).append(row)
        return cls(
            matrix=matrix,
            chunk_ids=tuple(chunk_ids),
            document_ids=tuple(document_ids),
            rows_by_document={doc: np.asarray(found, dtype=np.int64) for doc, found in rows.items()},
            stamp=stamp,
        )


class EmbeddedSearchIndex:
    """`SearchIndex` on local disk; several instances (or processes) may share one directory."""

    def __init__(self, directory: Path | str) -> None:
        self._directory = Path(directory)
        self._vectors_dir = self._directory / f"vectors-{_SCHEMA_VERSION}"
        text_dir = self._directory / f"text-{_SCHEMA_VERSION}"
        text_dir.mkdir(parents=True, exist_ok=True)
        self._vectors_dir.mkdir(parents=True, exist_ok=True)
        self._schema = _build_schema()
        self._index = tantivy.Index(self._schema, path=str(text_dir), reuse=True)
        self._analyzer = _english_analyzer()
        self._write_lock = threading.Lock()
        self._vectors: dict[str, _TenantVectors] = {}

    @property
    def directory(self) -> Path:
        return self._directory

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        latest: dict[tuple[str, str], IndexedChunk] = {}
        for chunk in chunks:
            validate_chunk(chunk)
            latest[(chunk.tenant_id, chunk.chunk_id)] = chunk
        if not latest:
            return
        embeddings = {key: _as_vector(chunk.embedding) for key, chunk in latest.items()}
        with self._write_lock:
            by_tenant: dict[str, list[IndexedChunk]] = {}
            for chunk in latest.values():
                by_tenant.setdefault(chunk.tenant_id, []).append(chunk)
            for tenant_id, tenant_chunks in by_tenant.items():
                self._check_dimensions(tenant_id, [embeddings[(tenant_id, c.chunk_id)] for c in tenant_chunks])

            def write(writer: tantivy.IndexWriter) -> None:
                for chunk in latest.values():
                    writer.delete_documents_by_term("uid", _uid(chunk.tenant_id, chunk.chunk_id))
                    writer.add_document(self._document(chunk))

            self._write_text(write)
            for tenant_id, tenant_chunks in by_tenant.items():
                self._write_vectors(
                    tenant_id,
                    replace_ids={chunk.chunk_id for chunk in tenant_chunks},
                    added=[(c.chunk_id, c.document_id, embeddings[(tenant_id, c.chunk_id)]) for c in tenant_chunks],
                )

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        require_tenant(tenant_id)
        with self._write_lock:
            removed = self.count(tenant_id, document_id)
            if removed:
                document_filter = tantivy.Query.boolean_query(self._filters(tenant_id, [document_id]))
                self._write_text(lambda writer: writer.delete_documents_by_query(document_filter))
            self._write_vectors(tenant_id, drop_document=document_id)
        return removed

    def keyword(self, tenant_id: str, query: str, k: int, document_ids: Sequence[str] | None = None) -> list[SearchHit]:
        require_tenant(tenant_id)
        require_k(k)
        if document_ids is not None and not document_ids:
            return []
        text_query = self._text_query(query)
        if text_query is None:
            return []
        searcher = self._index.searcher()
        full_query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, text_query), *self._filters(tenant_id, document_ids)]
        )
        result = searcher.search(full_query, k, count=False)
        return [_hit(searcher.doc(address), float(score)) for score, address in result.hits]

    def vector(
        self, tenant_id: str, embedding: Embedding, k: int, document_ids: Sequence[str] | None = None
    ) -> list[SearchHit]:
        require_tenant(tenant_id)
        require_k(k)
        vectors = self._tenant_vectors(tenant_id)
        if vectors is None or (document_ids is not None and not document_ids):
            return []
        query = _as_vector(embedding)
        if query.shape[0] != vectors.dimension:
            raise ValidationFailed(
                f"query embedding has {query.shape[0]} dimensions, the index holds {vectors.dimension}",
                field="embedding",
            )
        if document_ids is None:
            rows = None
            scores = _similarities(vectors.matrix, _unit(query))
        else:
            found = [
                vectors.rows_by_document[doc] for doc in dict.fromkeys(document_ids) if doc in vectors.rows_by_document
            ]
            if not found:
                return []
            rows = np.concatenate(found)
            scores = _similarities(vectors.matrix[rows], _unit(query))
        top = _top_k(scores, k)
        ranked = [(vectors.chunk_ids[i if rows is None else int(rows[i])], float(scores[i])) for i in top]
        stored = self._stored_chunks(tenant_id, [chunk_id for chunk_id, _ in ranked])
        return [_hit(stored[chunk_id], score) for chunk_id, score in ranked if chunk_id in stored]

    def count(self, tenant_id: str, document_id: str | None = None) -> int:
        require_tenant(tenant_id)
        filters = self._filters(tenant_id, None if document_id is None else [document_id])
        result = self._index.searcher().search(tantivy.Query.boolean_query(filters), 1, count=True)
        return int(result.count or 0)  # type: ignore[attr-defined]  # the stub omits SearchResult.count

    def _filters(self, tenant_id: str, document_ids: Sequence[str] | None) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Exact filters that add nothing to the score, so BM25 ranks by text alone."""
        clauses = [tantivy.Query.term_query(self._schema, "tenant_id", tenant_id)]
        if document_ids is not None:
            clauses.append(tantivy.Query.term_set_query(self._schema, "document_id", list(document_ids)))
        return [(tantivy.Occur.Must, tantivy.Query.const_score_query(clause, 0.0)) for clause in clauses]

    def _text_query(self, text: str) -> tantivy.Query | None:
        """Parsed from sanitised words; should the parser still refuse them, one term query per token."""
        cleaned = sanitize_query(text)
        if not cleaned:
            return None
        try:
            return self._index.parse_query(cleaned, ["text"])
        except ValueError:
            tokens = list(dict.fromkeys(self._analyzer.analyze(cleaned)))
            if not tokens:
                return None
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "text", token)) for token in tokens]
            )

    def _stored_chunks(self, tenant_id: str, chunk_ids: Sequence[str]) -> dict[str, tantivy.Document]:
        if not chunk_ids:
            return {}
        searcher = self._index.searcher()
        lookup = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.term_set_query(self._schema, "uid", [_uid(tenant_id, c) for c in chunk_ids]),
                ),
                *self._filters(tenant_id, None),
            ]
        )
        result = searcher.search(lookup, len(chunk_ids), count=False)
        documents = (searcher.doc(address) for _, address in result.hits)
        return {str(document.get_first("chunk_id")): document for document in documents}

    def _document(self, chunk: IndexedChunk) -> tantivy.Document:
        document = tantivy.Document(
            uid=_uid(chunk.tenant_id, chunk.chunk_id),
            chunk_id=chunk.chunk_id,
            tenant_id=chunk.tenant_id,
            document_id=chunk.document_id,
            text=chunk.text,
            chunk_index=chunk.chunk_index,
        )
        if chunk.page is not None:
            document.add_integer("page", chunk.page)
        document.add_bytes("metadata", json.dumps(dict(chunk.metadata), sort_keys=True).encode())
        return document

    def _write_text(self, operations: Any) -> None:
        """Apply ``operations(writer)`` in one commit, then reload so the next search sees it."""
        writer = self._open_writer()
        try:
            operations(writer)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        self._index.reload()

    def _open_writer(self) -> tantivy.IndexWriter:
        """A short-lived writer: holding one would lock out every other process on this directory."""
        for attempt in range(_WRITER_ATTEMPTS):
            try:
                return self._index.writer(heap_size=_WRITER_HEAP_BYTES, num_threads=1)
            except ValueError:
                if attempt == _WRITER_ATTEMPTS - 1:
                    raise
                time.sleep(_WRITER_RETRY_S)
        raise AssertionError("unreachable")

    def _vectors_path(self, tenant_id: str) -> Path:
        name = tenant_id if _SAFE_FILE_NAME.fullmatch(tenant_id) else "~" + tenant_id.encode().hex()
        return self._vectors_dir / f"{name}.npz"

    def _tenant_vectors(self, tenant_id: str) -> _TenantVectors | None:
        """The cached snapshot, reloaded when another instance or process rewrote the file."""
        path = self._vectors_path(tenant_id)
        try:
            status = path.stat()
        except FileNotFoundError:
            self._vectors.pop(tenant_id, None)
            return None
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        cached = self._vectors.get(tenant_id)
        if cached is not None and cached.stamp == stamp:
            return cached
        with np.load(path, allow_pickle=False) as stored:
            loaded = _TenantVectors.build(
                stored["vectors"].astype(np.float32, copy=False),
                [str(c) for c in stored["chunk_ids"]],
                [str(d) for d in stored["document_ids"]],
                stamp,
            )
        self._vectors[tenant_id] = loaded
        return loaded

    def _check_dimensions(self, tenant_id: str, embeddings: Iterable[FloatMatrix]) -> None:
        current = self._tenant_vectors(tenant_id)
        dimensions = {int(embedding.shape[0]) for embedding in embeddings}
        if current is not None:
            dimensions.add(current.dimension)
        if len(dimensions) > 1:
            raise ValidationFailed(
                f"embeddings of one tenant must share a dimension, got {sorted(dimensions)}",
                field="embedding",
            )

    def _write_vectors(
        self,
        tenant_id: str,
        *,
        replace_ids: set[str] | None = None,
        drop_document: str | None = None,
        added: Sequence[tuple[str, str, FloatMatrix]] = (),
    ) -> None:
        current = self._tenant_vectors(tenant_id)
        keep: list[int] = []
        if current is not None:
            keep = [
                row
                for row, (chunk_id, document_id) in enumerate(zip(current.chunk_ids, current.document_ids, strict=True))
                if not (replace_ids and chunk_id in replace_ids) and document_id != drop_document
            ]
            if len(keep) == len(current.chunk_ids) and not added:
                return
        chunk_ids = [current.chunk_ids[row] for row in keep] if current else []
        document_ids = [current.document_ids[row] for row in keep] if current else []
        blocks = [current.matrix[keep]] if current is not None and keep else []
        if added:
            blocks.append(np.stack([_unit(vector) for _, _, vector in added]))
            chunk_ids += [chunk_id for chunk_id, _, _ in added]
            document_ids += [document_id for _, document_id, _ in added]
        path = self._vectors_path(tenant_id)
        if not chunk_ids:
            path.unlink(missing_ok=True)
            self._vectors.pop(tenant_id, None)
            return
        matrix = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with temporary.open("wb") as handle:
            np.savez(
                handle,
                vectors=matrix,
                chunk_ids=np.asarray(chunk_ids, dtype=np.str_),
                document_ids=np.asarray(document_ids, dtype=np.str_),
            )
        os.replace(temporary, path)
        status = path.stat()
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        self._vectors[tenant_id] = _TenantVectors.build(matrix, chunk_ids, document_ids, stamp)


def _as_vector(embedding: Embedding) -> FloatMatrix:
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if vector.size == 0 or not np.all(np.isfinite(vector)):
        raise ValidationFailed("an embedding must be a non-empty list of finite numbers", field="embedding")
    return vector


def _similarities(matrix: FloatMatrix, query: FloatMatrix) -> FloatMatrix:
    """Row-by-query dot products on the calling thread. BLAS (``matrix @ query``) would fan this
    memory-bound product out to its own thread pool: 3-4x slower on a busy 2-core box, and the dev
    server already runs requests in parallel."""
    scores: FloatMatrix = np.einsum("ij,j->i", matrix, query)
    return scores


def _unit(vector: FloatMatrix) -> FloatMatrix:
    """Unit length, so a dot product is the cosine; a zero vector stays zero (similar to nothing)."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _top_k(scores: FloatMatrix, k: int) -> list[int]:
    """Positions of the k best scores, best first, ties in row order."""
    everything = scores.shape[0] <= k
    candidates = np.arange(scores.shape[0]) if everything else np.argpartition(-scores, k - 1)[:k]
    order = np.lexsort((candidates, -scores[candidates]))
    return [int(position) for position in candidates[order]]


def _hit(document: tantivy.Document, score: float) -> SearchHit:
    fields = document.to_dict()  # one call into tantivy instead of one per field
    page = fields.get("page")
    metadata = fields.get("metadata")
    return SearchHit(
        chunk_id=fields["chunk_id"][0],
        document_id=fields["document_id"][0],
        page=int(page[0]) if page else None,
        chunk_index=int(fields.get("chunk_index", [0])[0]),
        text=fields.get("text", [""])[0],
        score=score,
        metadata=json.loads(metadata[0].decode()) if metadata and metadata[0] != b"{}" else {},
    )

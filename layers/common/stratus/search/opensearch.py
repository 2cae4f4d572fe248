"""OpenSearch `SearchIndex`: a Serverless vector collection (``aoss``) or a managed domain (``es``).

One index holds every tenant; every query carries a ``term`` filter on ``tenant_id`` (inside the knn
clause for vector search, so filtering happens during the graph search, not after it).

What Serverless does differently, and how this adapter copes:
- vector search collections assign document ids themselves (a custom ``_id`` is refused), so an
  upsert first looks up the chunk's current documents by ``chunk_id`` and deletes them in the same
  ``_bulk`` that indexes the new ones; results are de-duplicated by chunk id in case a re-upsert
  races the collection's refresh.
- ``_delete_by_query`` and ``_refresh`` are not available: deletes search the ids and bulk-delete
  them, and writes become searchable after the collection's own refresh (seconds), not on return.
Managed domains get ``_id = <tenant>/<chunk_id>``, ``_delete_by_query`` and ``refresh=wait_for``.

opensearch-py is imported only when a client is built (it costs ~190 ms of cold start).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlparse

from stratus.errors import UpstreamFailed, UpstreamUnavailable, ValidationFailed
from stratus.retry import RetryPolicy
from stratus.search.models import (
    Embedding,
    IndexedChunk,
    SearchHit,
    require_k,
    require_tenant,
    validate_chunk,
)

if TYPE_CHECKING:
    from stratus.config import Settings

T = TypeVar("T")
KnnEngine = Literal["faiss", "lucene"]

_RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
_PAGE_SIZE = 1000
_SOURCE_FIELDS = ["chunk_id", "document_id", "page", "chunk_index", "text", "metadata"]


def index_definition(dimension: int, engine: KnnEngine = "faiss") -> dict[str, Any]:
    """Settings and mapping of the chunk index.

    Vectors are stored unit-length, so inner product is cosine similarity; ``innerproduct`` works with
    faiss on every OpenSearch 2.x, while faiss only learnt ``cosinesimil`` in recent releases.
    """
    return {
        "settings": {"index": {"knn": True}},
        "mappings": {
            "properties": {
                "chunk_id": {"type": "keyword"},
                "tenant_id": {"type": "keyword"},
                "document_id": {"type": "keyword"},
                "text": {"type": "text", "analyzer": "english"},
                "embedding": {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": engine,
                        "space_type": "innerproduct",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
                "page": {"type": "integer"},
                "chunk_index": {"type": "integer"},
                "metadata": {"type": "object", "enabled": False},
            }
        },
    }


class OpenSearchIndex:
    """`SearchIndex` over an opensearch-py client (built by `build_client`, or any compatible client)."""

    def __init__(
        self,
        client: Any,
        index_name: str,
        *,
        serverless: bool,
        knn_engine: KnnEngine = "faiss",
        bulk_max_chunks: int = 200,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._client = client
        self._index = index_name
        self._serverless = serverless
        self._engine: KnnEngine = knn_engine
        self._bulk_max_chunks = max(1, bulk_max_chunks)
        self._retry = retry or RetryPolicy(max_attempts=4, base_delay_s=0.2, max_delay_s=5.0)
        self._dimension: int | None = None

    def ensure_index(self, dimension: int) -> None:
        """Create the index for ``dimension``-long embeddings unless it exists; refuse another dimension."""
        if self._dimension == dimension:
            return
        from opensearchpy.exceptions import RequestError

        if not self._call("index exists", lambda: self._client.indices.exists(index=self._index)):
            try:
                self._call(
                    "create index",
                    lambda: self._client.indices.create(
                        index=self._index, body=index_definition(dimension, self._engine)
                    ),
                )
            except UpstreamFailed as exc:
                # Another writer created it between our check and our create.
                cause = exc.__cause__
                if not (isinstance(cause, RequestError) and cause.error == "resource_already_exists_exception"):
                    raise
        mappings = self._call("get mapping", lambda: self._client.indices.get_mapping(index=self._index))
        existing = _embedding_dimension(mappings)
        if existing is not None and existing != dimension:
            raise ValidationFailed(
                f"index {self._index} holds {existing}-dimension embeddings, got {dimension}",
                field="embedding",
            )
        self._dimension = dimension

    def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        latest: dict[tuple[str, str], IndexedChunk] = {}
        for chunk in chunks:
            validate_chunk(chunk)
            latest[(chunk.tenant_id, chunk.chunk_id)] = chunk
        if not latest:
            return
        vectors = {key: _unit_list(chunk.embedding) for key, chunk in latest.items()}
        dimensions = {len(vector) for vector in vectors.values()}
        if len(dimensions) > 1:
            raise ValidationFailed(f"embeddings must share one dimension, got {sorted(dimensions)}", field="embedding")
        self.ensure_index(dimensions.pop())
        items = list(latest.items())
        for start in range(0, len(items), self._bulk_max_chunks):
            batch = items[start : start + self._bulk_max_chunks]
            actions: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
            if self._serverless:
                actions += [
                    ({"delete": {"_index": self._index, "_id": stale}}, None) for stale in self._stale_ids(batch)
                ]
            for key, chunk in batch:
                meta: dict[str, Any] = {"_index": self._index}
                if not self._serverless:
                    meta["_id"] = f"{chunk.tenant_id}/{chunk.chunk_id}"
                actions.append(({"index": meta}, _source(chunk, vectors[key])))
            self._bulk(actions)

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        require_tenant(tenant_id)
        document_filter = {"bool": {"filter": _filters(tenant_id, [document_id])}}
        if not self._serverless:
            response = self._call(
                "delete by query",
                lambda: self._client.delete_by_query(
                    index=self._index,
                    body={"query": document_filter},
                    params={"conflicts": "proceed", "refresh": "true"},
                ),
                missing_index=dict,
            )
            return int(response.get("deleted", 0))
        deleted = 0
        for ids in self._matching_ids(document_filter):
            deleted += self._bulk([({"delete": {"_index": self._index, "_id": doc_id}}, None) for doc_id in ids])
        return deleted

    def keyword(self, tenant_id: str, query: str, k: int, document_ids: Sequence[str] | None = None) -> list[SearchHit]:
        require_tenant(tenant_id)
        require_k(k)
        if not query.strip() or (document_ids is not None and not document_ids):
            return []
        # match analyses the text as plain words: quotes, colons and AND/OR are never syntax here.
        body = {
            "size": k,
            "_source": _SOURCE_FIELDS,
            "query": {
                "bool": {
                    "must": [{"match": {"text": {"query": query}}}],
                    "filter": _filters(tenant_id, document_ids),
                }
            },
        }
        return self._search(body, score=float)

    def vector(
        self, tenant_id: str, embedding: Embedding, k: int, document_ids: Sequence[str] | None = None
    ) -> list[SearchHit]:
        require_tenant(tenant_id)
        require_k(k)
        if document_ids is not None and not document_ids:
            return []
        vector = _unit_list(embedding)
        if self._dimension is not None and len(vector) != self._dimension:
            raise ValidationFailed(
                f"query embedding has {len(vector)} dimensions, the index holds {self._dimension}",
                field="embedding",
            )
        body = {
            "size": k,
            "_source": _SOURCE_FIELDS,
            "query": {
                "knn": {
                    "embedding": {
                        "vector": vector,
                        "k": k,
                        "filter": {"bool": {"filter": _filters(tenant_id, document_ids)}},
                    }
                }
            },
        }
        return self._search(body, score=_cosine_from_inner_product_score)

    def count(self, tenant_id: str, document_id: str | None = None) -> int:
        require_tenant(tenant_id)
        # A zero-size search with an exact total rather than _count: every collection type answers it.
        body = {
            "size": 0,
            "track_total_hits": True,
            "query": {"bool": {"filter": _filters(tenant_id, None if document_id is None else [document_id])}},
        }
        total = self._search_response(body).get("hits", {}).get("total", {})
        return int(total.get("value", 0) if isinstance(total, Mapping) else total)

    def _search_response(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("search", lambda: self._client.search(index=self._index, body=body), missing_index=dict)

    def _search(self, body: dict[str, Any], score: Callable[[float], float]) -> list[SearchHit]:
        response = self._search_response(body)
        hits: dict[str, SearchHit] = {}
        for raw in response.get("hits", {}).get("hits", []):
            source = raw.get("_source", {})
            chunk_id = str(source.get("chunk_id", ""))
            if chunk_id and chunk_id not in hits:
                hits[chunk_id] = SearchHit(
                    chunk_id=chunk_id,
                    document_id=str(source.get("document_id", "")),
                    page=source.get("page"),
                    chunk_index=int(source.get("chunk_index") or 0),
                    text=str(source.get("text", "")),
                    score=score(float(raw.get("_score") or 0.0)),
                    metadata=dict(source.get("metadata") or {}),
                )
        return list(hits.values())

    def _stale_ids(self, batch: Sequence[tuple[tuple[str, str], IndexedChunk]]) -> list[str]:
        """Server-assigned ids of the documents that currently hold these chunks."""
        by_tenant: dict[str, list[str]] = {}
        for (tenant_id, chunk_id), _ in batch:
            by_tenant.setdefault(tenant_id, []).append(chunk_id)
        stale: list[str] = []
        for tenant_id, chunk_ids in by_tenant.items():
            query = {"bool": {"filter": [*_filters(tenant_id, None), {"terms": {"chunk_id": chunk_ids}}]}}
            for ids in self._matching_ids(query):
                stale += ids
        return stale

    def _matching_ids(self, query: Mapping[str, Any]) -> Iterator[list[str]]:
        """Pages of ``_id`` of every document matching ``query``, walked with search_after on chunk_id."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": _PAGE_SIZE,
                "_source": False,
                "query": query,
                "sort": [{"chunk_id": "asc"}],
            }
            if after is not None:
                body["search_after"] = after
            page = self._search_response(body).get("hits", {}).get("hits", [])
            if not page:
                return
            yield [str(hit["_id"]) for hit in page]
            if len(page) < _PAGE_SIZE:
                return
            after = page[-1]["sort"]

    def _bulk(self, actions: Sequence[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Send actions; a retry resends only the items the server throttled. Returns documents deleted."""
        pending = list(actions)
        deleted = 0
        params = {} if self._serverless else {"refresh": "wait_for"}

        def send_pending() -> None:
            nonlocal pending, deleted
            lines: list[str] = []
            for action, source in pending:
                lines.append(json.dumps(action))
                if source is not None:
                    lines.append(json.dumps(source))
            body = "\n".join(lines) + "\n"
            response = self._attempt(lambda: self._client.bulk(body=body, params=params))
            throttled: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
            for (action, source), item in zip(pending, response.get("items", []), strict=True):
                kind, outcome = next(iter(item.items()))
                status = int(outcome.get("status", 500))
                if kind == "delete" and status == 404:
                    continue
                if status < 300:
                    deleted += kind == "delete"
                elif status in _RETRYABLE_STATUS:
                    throttled.append((action, source))
                else:
                    raise _bulk_failure(kind, status, outcome)
            pending = throttled
            if pending:
                raise UpstreamUnavailable(f"OpenSearch throttled {len(pending)} of the bulk items")

        if pending:
            self._retry.call("opensearch bulk", send_pending)
        return deleted

    def _call(self, operation: str, request: Callable[[], T], missing_index: Callable[[], T] | None = None) -> T:
        """One request under the retry policy: throttling, gateway errors and lost connections are retried."""
        return self._retry.call(f"opensearch {operation}", lambda: self._attempt(request, missing_index))

    @staticmethod
    def _attempt(request: Callable[[], T], missing_index: Callable[[], T] | None = None) -> T:
        """One try, its failure translated: transient ones to `UpstreamUnavailable`, the rest to
        `UpstreamFailed`; a missing index answers ``missing_index()`` when the caller allows it."""
        from opensearchpy.exceptions import ConnectionError as TransportConnectionError
        from opensearchpy.exceptions import NotFoundError, TransportError

        try:
            return request()
        except NotFoundError as exc:
            if missing_index is not None and exc.error == "index_not_found_exception":
                return missing_index()
            raise UpstreamFailed(f"OpenSearch: {exc.error}", status=404) from exc
        except TransportError as exc:
            if isinstance(exc, TransportConnectionError) or exc.status_code in _RETRYABLE_STATUS:
                raise UpstreamUnavailable(f"OpenSearch unavailable: {exc.error}", status=exc.status_code) from exc
            raise UpstreamFailed(f"OpenSearch refused the request: {exc.error}", status=exc.status_code) from exc


def build_client(settings: Settings, *, credentials: Any = None, connection_class: Any = None) -> Any:
    """An opensearch-py client that signs every request with SigV4 for ``opensearch_service``.

    Retries are left to `OpenSearchIndex` and the project's `RetryPolicy` (opensearch-py's own retries
    have no backoff).
    """
    from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

    if not settings.opensearch_endpoint:
        raise RuntimeError("SEARCH_BACKEND=opensearch needs OPENSEARCH_ENDPOINT")
    if credentials is None:
        import boto3

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials found to sign OpenSearch requests")
    endpoint = urlparse(settings.opensearch_endpoint)
    secure = endpoint.scheme == "https"
    return OpenSearch(
        hosts=[{"host": endpoint.hostname, "port": endpoint.port or (443 if secure else 80)}],
        http_auth=Urllib3AWSV4SignerAuth(credentials, settings.aws_region, settings.opensearch_service),
        use_ssl=secure,
        verify_certs=secure,
        connection_class=connection_class or Urllib3HttpConnection,
        timeout=settings.opensearch_timeout_s,
        max_retries=0,
        retry_on_timeout=False,
    )


def open_search_index(settings: Settings, client: Any = None) -> OpenSearchIndex:
    return OpenSearchIndex(
        client if client is not None else build_client(settings),
        settings.opensearch_index,
        serverless=settings.opensearch_service == "aoss",
        knn_engine=settings.opensearch_knn_engine,
        bulk_max_chunks=settings.opensearch_bulk_max_chunks,
        retry=RetryPolicy(max_attempts=settings.opensearch_max_attempts, base_delay_s=0.2, max_delay_s=5.0),
    )


def _filters(tenant_id: str, document_ids: Sequence[str] | None) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [{"term": {"tenant_id": tenant_id}}]
    if document_ids is not None:
        filters.append({"terms": {"document_id": list(dict.fromkeys(document_ids))}})
    return filters


def _source(chunk: IndexedChunk, vector: list[float]) -> dict[str, Any]:
    return {
        "chunk_id": chunk.chunk_id,
        "tenant_id": chunk.tenant_id,
        "document_id": chunk.document_id,
        "text": chunk.text,
        "embedding": vector,
        "page": chunk.page,
        "chunk_index": chunk.chunk_index,
        "metadata": dict(chunk.metadata),
    }


def _unit_list(embedding: Embedding) -> list[float]:
    values = [float(value) for value in embedding]
    if not values or not all(math.isfinite(value) for value in values):
        raise ValidationFailed("an embedding must be a non-empty list of finite numbers", field="embedding")
    norm = math.sqrt(sum(value * value for value in values))
    return [value / norm for value in values] if norm > 0 else values


def _cosine_from_inner_product_score(score: float) -> float:
    """Undo the k-NN plugin's inner-product score (1 + ip when ip >= 0, else 1 / (1 - ip))."""
    return score - 1.0 if score >= 1.0 else 1.0 - 1.0 / score if score > 0 else -1.0


def _embedding_dimension(mappings: Mapping[str, Any]) -> int | None:
    for index_mapping in mappings.values():
        embedding = index_mapping.get("mappings", {}).get("properties", {}).get("embedding")
        if embedding is not None:
            return int(embedding["dimension"])
    return None


def _bulk_failure(kind: str, status: int, outcome: Mapping[str, Any]) -> UpstreamFailed | UpstreamUnavailable:
    error = outcome.get("error") or {}
    reason = error.get("reason") if isinstance(error, Mapping) else str(error)
    detail = f"OpenSearch bulk {kind} failed ({status}): {reason}"
    if status in _RETRYABLE_STATUS:
        return UpstreamUnavailable(detail)
    return UpstreamFailed(detail, status=status)

"""An in-memory OpenSearch behind opensearch-py's real client, transport, connection and SigV4 signer.

Only the socket is replaced: `connection_class_for(server)` is an `Urllib3HttpConnection` whose urllib3
pool answers from `FakeOpenSearch`, which records every request, checks what the adapter must always
send (a tenant filter on every read, no custom ids or refresh on Serverless) and answers the way
OpenSearch does for the subset of the API the adapter uses.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import urllib3
from opensearchpy import Urllib3HttpConnection


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeOpenSearch:
    serverless: bool
    indices: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    throttle_bulk_items: int = 0
    next_generated_id: int = 0

    def docs(self, index: str) -> dict[str, dict[str, Any]]:
        docs: dict[str, dict[str, Any]] = self.indices[index]["docs"]
        return docs

    def paths(self) -> list[str]:
        return [f"{request.method} {request.path}" for request in self.requests]

    def handle(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> urllib3.HTTPResponse:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        text = body.decode() if body else ""
        parsed: Any = text
        if text and not parts.path.endswith("/_bulk"):
            parsed = json.loads(text)
        self.requests.append(RecordedRequest(method, parts.path, params, parsed, dict(headers)))
        if self.fail_next:
            status = self.fail_next.pop(0)
            return _response(status, {"error": {"type": "fake_failure", "reason": "injected"}, "status": status})
        status, payload = self._route(method, parts.path, params, parsed)
        return _response(status, payload)

    def _route(self, method: str, path: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        segments = [segment for segment in path.split("/") if segment]
        if self.serverless and "refresh" in params:
            self.violations.append(f"refresh parameter sent to Serverless: {method} {path}")
            return 400, _error("illegal_argument_exception", "refresh is not supported")
        if len(segments) == 1 and method == "HEAD":
            return (200 if segments[0] in self.indices else 404), None
        if len(segments) == 1 and method == "PUT":
            return self._create_index(segments[0], body)
        if segments[0] == "_bulk" or (len(segments) == 2 and segments[1] == "_bulk"):
            return self._bulk(body)
        index = segments[0]
        if index not in self.indices:
            return 404, _error("index_not_found_exception", f"no such index [{index}]")
        action = segments[1] if len(segments) > 1 else ""
        if action == "_mapping" and method == "GET":
            return 200, {index: {"mappings": self.indices[index]["definition"]["mappings"]}}
        if action == "_search":
            self._require_tenant_filter(path, body["query"])
            return 200, self._search(index, body)
        if action == "_delete_by_query":
            if self.serverless:
                return 404, _error("not_found", "delete_by_query is not supported by OpenSearch Serverless")
            self._require_tenant_filter(path, body["query"])
            matched = self._matching(index, body["query"])
            for doc_id in matched:
                del self.docs(index)[doc_id]
            return 200, {"deleted": len(matched), "failures": []}
        return 400, _error("unsupported_operation", f"fake does not support {method} {path}")

    def _create_index(self, index: str, body: Any) -> tuple[int, Any]:
        if index in self.indices:
            return 400, _error("resource_already_exists_exception", f"index [{index}] already exists")
        self.indices[index] = {"definition": body, "docs": {}}
        return 200, {"acknowledged": True, "index": index}

    def _bulk(self, body: str) -> tuple[int, Any]:
        lines = [json.loads(line) for line in body.splitlines() if line]
        items: list[dict[str, Any]] = []
        position = 0
        throttled = self.throttle_bulk_items
        self.throttle_bulk_items = 0
        while position < len(lines):
            kind, meta = next(iter(lines[position].items()))
            position += 1
            index = meta["_index"]
            if throttled > 0:
                throttled -= 1
                position += 1 if kind == "index" else 0
                items.append({kind: {"_index": index, "status": 429, "error": {"type": "throttled"}}})
                continue
            if kind == "index":
                source = lines[position]
                position += 1
                items.append({"index": self._index_document(index, meta.get("_id"), source)})
            elif kind == "delete":
                found = self.docs(index).pop(meta["_id"], None)
                status, result = (200, "deleted") if found is not None else (404, "not_found")
                items.append({"delete": {"_index": index, "_id": meta["_id"], "status": status, "result": result}})
            else:
                items.append({kind: {"status": 400, "error": {"type": "unsupported", "reason": kind}}})
        errors = any(item[next(iter(item))]["status"] >= 300 for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _index_document(self, index: str, doc_id: str | None, source: dict[str, Any]) -> dict[str, Any]:
        if self.serverless and doc_id is not None:
            self.violations.append("custom _id sent to a Serverless vector collection")
            return {
                "status": 400,
                "error": {
                    "type": "illegal_argument_exception",
                    "reason": "Document ID is not supported in create/index operation request",
                },
            }
        if doc_id is None:
            self.next_generated_id += 1
            doc_id = f"gen-{self.next_generated_id}"
        dimension = self.indices[index]["definition"]["mappings"]["properties"]["embedding"]["dimension"]
        if len(source["embedding"]) != dimension:
            return {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "dimension"}}
        created = doc_id not in self.docs(index)
        self.docs(index)[doc_id] = source
        return {"_index": index, "_id": doc_id, "status": 201 if created else 200, "result": "created"}

    def _require_tenant_filter(self, path: str, query: Mapping[str, Any]) -> None:
        if "knn" in query:
            (spec,) = query["knn"].values()
            filters = spec.get("filter", {}).get("bool", {}).get("filter", [])
        else:
            filters = query.get("bool", {}).get("filter", [])
        if not any("term" in clause and "tenant_id" in clause["term"] for clause in filters):
            self.violations.append(f"query without a tenant filter: {path} {json.dumps(query)[:200]}")

    def _matching(self, index: str, query: Mapping[str, Any]) -> list[str]:
        return [doc_id for doc_id, source in self.docs(index).items() if _passes(source, query)]

    def _search(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]:
        query = body["query"]
        scored: list[tuple[float, str]] = []
        if "knn" in query:
            ((vector_field, spec),) = query["knn"].items()
            candidates = [
                doc_id for doc_id, source in self.docs(index).items() if _passes(source, spec.get("filter", {}))
            ]
            for doc_id in candidates:
                vector = self.docs(index)[doc_id][vector_field]
                inner = sum(a * b for a, b in zip(spec["vector"], vector, strict=True))
                scored.append((1 + inner if inner >= 0 else 1 / (1 - inner), doc_id))
            scored = sorted(scored, key=lambda pair: -pair[0])[: spec["k"]]
        else:
            for doc_id in self._matching(index, query):
                scored.append((_match_score(self.docs(index)[doc_id], query), doc_id))
            if "sort" in body:
                scored.sort(key=lambda pair: self.docs(index)[pair[1]]["chunk_id"])
                after = body.get("search_after")
                if after is not None:
                    scored = [pair for pair in scored if self.docs(index)[pair[1]]["chunk_id"] > after[0]]
            else:
                if any("match" in clause for clause in query.get("bool", {}).get("must", [])):
                    scored = [pair for pair in scored if pair[0] > 0]
                scored.sort(key=lambda pair: (-pair[0], pair[1]))
        hits = []
        for score, doc_id in scored[: body.get("size", 10)]:
            source = self.docs(index)[doc_id]
            hit: dict[str, Any] = {"_index": index, "_id": doc_id, "_score": score}
            wanted = body.get("_source", True)
            if wanted is not False:
                hit["_source"] = {k: v for k, v in source.items() if wanted is True or k in wanted}
            if "sort" in body:
                hit["sort"] = [source["chunk_id"]]
            hits.append(hit)
        # Like OpenSearch, totals are exact only up to 10,000 unless the caller asks for track_total_hits.
        total = {"value": len(scored), "relation": "eq"}
        if body.get("track_total_hits") is not True and len(scored) > 10_000:
            total = {"value": 10_000, "relation": "gte"}
        return {"took": 1, "timed_out": False, "hits": {"total": total, "hits": hits}}


def connection_class_for(server: FakeOpenSearch) -> type[Urllib3HttpConnection]:
    class _Pool:
        def urlopen(
            self,
            method: str,
            url: str,
            body: bytes | None,
            retries: Any = None,
            headers: Any = None,
            **_: Any,
        ) -> urllib3.HTTPResponse:
            return server.handle(method, url, body, headers or {})

        def close(self) -> None:
            return None

    class RecordingConnection(Urllib3HttpConnection):  # type: ignore[misc]
        def _create_urllib3_pool(self) -> None:
            self.pool = _Pool()

    return RecordingConnection


def _passes(source: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    if not query:
        return True
    if "term" in query:
        ((name, value),) = query["term"].items()
        return bool(source.get(name) == value)
    if "terms" in query:
        ((name, values),) = query["terms"].items()
        return source.get(name) in values
    if "match" in query:
        return True
    if "bool" in query:
        clauses = query["bool"]
        return all(_passes(source, clause) for clause in [*clauses.get("filter", []), *clauses.get("must", [])])
    raise AssertionError(f"fake cannot evaluate {query}")


def _match_score(source: Mapping[str, Any], query: Mapping[str, Any]) -> float:
    musts: Iterable[Mapping[str, Any]] = query.get("bool", {}).get("must", [])
    score = 0.0
    for clause in musts:
        if "match" in clause:
            ((name, spec),) = clause["match"].items()
            wanted = set(_words(spec["query"]))
            score += sum(1.0 for word in _words(source.get(name, "")) if word in wanted)
    return score


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _error(kind: str, reason: str) -> dict[str, Any]:
    return {"error": {"type": kind, "reason": reason, "root_cause": [{"type": kind, "reason": reason}]}}


def _response(status: int, payload: Any) -> urllib3.HTTPResponse:
    data = b"" if payload is None else json.dumps(payload).encode()
    return urllib3.HTTPResponse(
        body=io.BytesIO(data),
        status=status,
        headers={"content-type": "application/json"},
        preload_content=True,
    )

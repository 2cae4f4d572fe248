"""Evidence for agents: passages from the tenant's document index, or from the inputs the task carries."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from stratus.ai.ports import Embedder
    from stratus.search import SearchIndex

__all__ = ["Source", "TaskInput", "search_documents", "search_inputs", "split_passages"]

Origin = Literal["documents", "inputs"]
_PARAGRAPH = re.compile(r"\n\s*\n")
_PASSAGE_CHARS = 700
_K1, _B = 1.2, 0.75


@dataclass(frozen=True, slots=True)
class TaskInput:
    """A text the task was given (notes, a document, a code file)."""

    name: str
    content: str


@dataclass(frozen=True, slots=True)
class Source:
    source_id: str
    origin: Origin
    title: str
    text: str
    page: int | None = None
    score: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "origin": self.origin,
            "title": self.title,
            "text": self.text,
            "page": self.page,
            "score": round(self.score, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(
            source_id=str(data["source_id"]),
            origin="documents" if data.get("origin") == "documents" else "inputs",
            title=str(data.get("title", "")),
            text=str(data.get("text", "")),
            page=data.get("page"),
            score=float(data.get("score", 0.0)),
        )


def split_passages(text: str, max_chars: int = _PASSAGE_CHARS) -> list[str]:
    """Paragraphs, with long ones cut at sentence ends into passages of at most ``max_chars``."""
    passages: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = paragraph.strip()
        while len(paragraph) > max_chars:
            cut = max(paragraph.rfind(". ", 0, max_chars), paragraph.rfind("\n", 0, max_chars))
            cut = cut + 1 if cut > max_chars // 3 else max_chars
            passages.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if paragraph:
            passages.append(paragraph)
    return passages


def search_inputs(inputs: Sequence[TaskInput], query: str, k: int = 5) -> list[Source]:
    """BM25 over the passages of the task's inputs; passages sharing no term with the query are left out."""
    from stratus.ai.text import terms

    candidates = [
        (item.name, index, passage, Counter(terms(passage)))
        for item in inputs
        for index, passage in enumerate(split_passages(item.content), start=1)
    ]
    query_terms = set(terms(query))
    if not candidates or not query_terms:
        return []
    total = len(candidates)
    average = sum(sum(counts.values()) for *_, counts in candidates) / total or 1.0
    frequency = {term: sum(1 for *_, counts in candidates if counts[term]) for term in query_terms}
    idf = {term: math.log(1 + (total - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
    scored: list[tuple[float, int, Source]] = []
    for position, (name, index, passage, counts) in enumerate(candidates):
        length = sum(counts.values())
        score = sum(
            idf[term] * counts[term] * (_K1 + 1) / (counts[term] + _K1 * (1 - _B + _B * length / average))
            for term in query_terms
            if counts[term]
        )
        if score > 0:
            scored.append((score, position, Source(f"{name}#{index}", "inputs", name, passage, score=score)))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [source for _, _, source in scored[:k]]


def search_documents(
    tenant_id: str,
    query: str,
    k: int,
    *,
    index: Callable[[], SearchIndex],
    embedder: Callable[[], Embedder],
) -> list[Source]:
    """Hybrid search of the tenant's indexed documents (docqa's index); empty when the tenant has none."""
    from stratus.search import hybrid_search

    search_index = index()
    if search_index.count(tenant_id) == 0:
        return []
    embedding = embedder().embed([query])[0]
    hits = hybrid_search(search_index, tenant_id, query, embedding, k)
    return [
        Source(
            source_id=hit.chunk_id,
            origin="documents",
            title=hit.metadata.get("filename") or hit.document_id,
            text=hit.text,
            page=hit.page,
            score=hit.score,
        )
        for hit in hits
    ]

"""Retrieval quality of keyword, vector and hybrid search on the CACM test collection.

Run: ``.venv/bin/python bench/retrieval_quality.py`` (or ``make bench``). Indexes the 3,204 CACM
abstracts (title + text, one chunk per document) into the embedded adapter in a temporary directory,
runs the 52 judged queries and prints nDCG@10, recall@10, P@30 and MAP next to the published Anserini
BM25 run. MAP and P@30 are computed over the top 1000 retrieved per query, as trec_eval does by default.

Embeddings come from `stratus.ai.embeddings`: the local all-MiniLM-L6-v2 ONNX model when it is present
(``make embedding-model``), otherwise the feature-hash embedder; the output names the one used.
Document embeddings are cached under ``.local/bench/`` so a re-run skips the model.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("stratus") is None:  # run as a plain script, without `make`'s PYTHONPATH
    sys.path.insert(0, str(REPO_ROOT / "layers" / "common"))

from stratus.search import IndexedChunk, SearchHit, hybrid_search  # noqa: E402
from stratus.search.embedded import EmbeddedSearchIndex  # noqa: E402

DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "retrieval-cacm"
TENANT = "bench"
DEPTH = 1000
ANSERINI_BM25_MAP = 0.3123
ANSERINI_BM25_P30 = 0.1942


class TextEmbedder(Protocol):
    """What the benchmark needs from an embedder (`stratus.ai.embeddings.Embedder` fits)."""

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class Collection:
    documents: dict[str, str]
    queries: dict[str, str]
    relevant: dict[str, set[str]]


@dataclass(frozen=True)
class Scores:
    ndcg_10: float
    recall_10: float
    p_30: float
    map_1000: float


def load_collection(data_dir: Path) -> Collection:
    files = {name: data_dir / name for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv")}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise SystemExit(
            f"CACM data not found: {', '.join(missing)}\n"
            f"Expected the collection of shared/data/retrieval-cacm next to the repository (see its SOURCES.md), "
            f"or pass --data DIR."
        )
    documents = {}
    for line in files["corpus.jsonl"].read_text().splitlines():
        record = json.loads(line)
        documents[record["id"]] = f"{record['title']}\n{record['text']}".strip()
    queries = {}
    for line in files["queries.jsonl"].read_text().splitlines():
        record = json.loads(line)
        queries[record["id"]] = record["text"]
    relevant: dict[str, set[str]] = {}
    for line in files["qrels.tsv"].read_text().splitlines()[1:]:
        query_id, doc_id, grade = line.split("\t")
        if int(grade) > 0:
            relevant.setdefault(query_id, set()).add(doc_id)
    judged = {query_id: text for query_id, text in queries.items() if query_id in relevant}
    return Collection(documents=documents, queries=judged, relevant=relevant)


def choose_embedder(choice: str) -> tuple[TextEmbedder, str]:
    """The local ONNX model when asked for or present, else feature hashing; and a label saying which."""
    try:
        from stratus.ai.embeddings import get_embedder
        from stratus.config.ai import AiSettings
    except ImportError as exc:  # stratus.ai not in this checkout
        raise SystemExit(f"stratus.ai.embeddings is needed for embeddings: {exc}") from exc
    settings = AiSettings()
    model_present = (settings.local_model_dir / "model.onnx").is_file()
    if choice == "local" or (choice == "auto" and model_present):
        if not model_present:
            raise SystemExit(f"no local model in {settings.local_model_dir}: run `make embedding-model`")
        embedder = _unmetered(get_embedder(settings.model_copy(update={"embedding_provider": "local"})))
        return embedder, f"local ONNX {embedder.model_id}"
    embedder = _unmetered(
        get_embedder(settings.model_copy(update={"embedding_provider": "hash", "embedding_dimensions": 384}))
    )
    note = "" if choice == "hash" else " (local model absent: run `make embedding-model` for semantic vectors)"
    return embedder, f"feature hashing {embedder.model_id}{note}"


def _unmetered(embedder: TextEmbedder) -> TextEmbedder:
    """The provider itself: usage metrics need a Lambda's settings and mean nothing in a benchmark."""
    inner: TextEmbedder = getattr(embedder, "inner", embedder)
    return inner


def embed_documents(embedder: TextEmbedder, documents: Mapping[str, str]) -> tuple[npt.NDArray[np.float32], bool]:
    """Document embeddings, cached by model and corpus so only the first run pays for the model;
    and whether they came from the cache."""
    digest = hashlib.sha256(json.dumps([embedder.model_id, sorted(documents.items())]).encode()).hexdigest()[:16]
    cache = REPO_ROOT / ".local" / "bench" / f"cacm-embeddings-{digest}.npy"
    if cache.is_file():
        cached: npt.NDArray[np.float32] = np.load(cache, allow_pickle=False)
        return cached, True
    texts = list(documents.values())
    vectors = np.concatenate([embedder.embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors.astype(np.float32))
    return vectors, False


def evaluate(ranked: Sequence[str], relevant: set[str]) -> Scores:
    gains = [1.0 if doc_id in relevant else 0.0 for doc_id in ranked[:DEPTH]]
    dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains[:10]))
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(10, len(relevant))))
    hits = 0
    precision_sum = 0.0
    for rank, gain in enumerate(gains, start=1):
        if gain:
            hits += 1
            precision_sum += hits / rank
    return Scores(
        ndcg_10=dcg / ideal,
        recall_10=sum(gains[:10]) / len(relevant),
        p_30=sum(gains[:30]) / 30,
        map_1000=precision_sum / len(relevant),
    )


def mean_scores(per_query: Sequence[Scores]) -> Scores:
    count = len(per_query)
    return Scores(
        ndcg_10=sum(s.ndcg_10 for s in per_query) / count,
        recall_10=sum(s.recall_10 for s in per_query) / count,
        p_30=sum(s.p_30 for s in per_query) / count,
        map_1000=sum(s.map_1000 for s in per_query) / count,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="directory of the CACM files")
    parser.add_argument("--embedder", choices=["auto", "local", "hash"], default="auto")
    parser.add_argument("--alpha", type=float, default=0.5, help="vector weight of the weighted fusion")
    args = parser.parse_args()

    collection = load_collection(args.data)
    embedder, embedder_label = choose_embedder(args.embedder)

    started = time.perf_counter()
    document_vectors, from_cache = embed_documents(embedder, collection.documents)
    embed_s = time.perf_counter() - started
    query_ids = sorted(collection.queries, key=int)
    query_vectors = embedder.embed([collection.queries[query_id] for query_id in query_ids])

    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as directory:
        index = EmbeddedSearchIndex(directory)
        started = time.perf_counter()
        index.upsert(
            [
                IndexedChunk(
                    chunk_id=doc_id,
                    tenant_id=TENANT,
                    document_id=doc_id,
                    text=text,
                    embedding=document_vectors[row],
                    metadata={"collection": "cacm"},
                )
                for row, (doc_id, text) in enumerate(collection.documents.items())
            ]
        )
        index_s = time.perf_counter() - started

        runs: dict[str, Callable[[str, Any], list[SearchHit]]] = {
            "keyword (BM25, tantivy en_stem)": lambda text, _: index.keyword(TENANT, text, DEPTH),
            "vector (cosine)": lambda _, vector: index.vector(TENANT, vector, DEPTH),
            "hybrid rrf (k=60)": lambda text, vector: hybrid_search(
                index, TENANT, text, vector, DEPTH, fusion="rrf", candidates=DEPTH
            ),
            f"hybrid weighted (alpha={args.alpha:g})": lambda text, vector: hybrid_search(
                index, TENANT, text, vector, DEPTH, fusion="weighted", alpha=args.alpha, candidates=DEPTH
            ),
        }
        results: dict[str, Scores] = {}
        for name, run in runs.items():
            per_query = []
            for row, query_id in enumerate(query_ids):
                hits = run(collection.queries[query_id], query_vectors[row])
                per_query.append(evaluate([hit.document_id for hit in hits], collection.relevant[query_id]))
            results[name] = mean_scores(per_query)

    print(f"CACM: {len(collection.documents)} documents, {len(query_ids)} judged queries (data: {args.data})")
    source = f"loaded from {REPO_ROOT / '.local' / 'bench'}" if from_cache else f"embedded in {embed_s:.1f} s"
    print(f"embedder: {embedder_label}; document vectors {source}")
    print(f"indexed in {index_s:.2f} s; MAP and P@30 over the top {DEPTH} per query (trec_eval's default)")
    print()
    print(f"{'run':40s} {'nDCG@10':>8s} {'R@10':>8s} {'P@30':>8s} {'MAP':>8s}")
    for name, scores in results.items():
        print(f"{name:40s} {scores.ndcg_10:8.4f} {scores.recall_10:8.4f} {scores.p_30:8.4f} {scores.map_1000:8.4f}")
    print(
        f"{'Anserini BM25 (published, Lucene)':40s} {'':>8s} {'':>8s} {ANSERINI_BM25_P30:8.4f} {ANSERINI_BM25_MAP:8.4f}"
    )
    best_hybrid = max(results[name].map_1000 for name in results if name.startswith("hybrid"))
    verdict = "above" if best_hybrid > ANSERINI_BM25_MAP else "NOT above"
    print()
    print(f"best hybrid MAP {best_hybrid:.4f} is {verdict} the published BM25 MAP {ANSERINI_BM25_MAP}")


if __name__ == "__main__":
    main()

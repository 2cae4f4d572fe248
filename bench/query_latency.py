"""Query latency of the embedded search index: p50/p95 of keyword, vector and hybrid queries.

Run: ``.venv/bin/python bench/query_latency.py`` (or ``make bench``). Builds a 10,000-chunk index for one
tenant (plus 2,000 chunks of another tenant, so the tenant filter has something to exclude) from
synthetic English-like text with precomputed random 384-dimension vectors: no model time is measured.
The baseline, measured in the same run on the same data, is a bare tantivy index (parse, search,
fetch 10 documents) and a raw numpy matrix-vector product (BLAS matmul and single-threaded einsum) with
top-10 selection, so the ratio is our overhead.
Target: p95 below 50 ms for every query kind.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import tantivy

REPO_ROOT = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("stratus") is None:  # run as a plain script, without `make`'s PYTHONPATH
    sys.path.insert(0, str(REPO_ROOT / "layers" / "common"))

from stratus.search import IndexedChunk, hybrid_search  # noqa: E402
from stratus.search.embedded import EmbeddedSearchIndex  # noqa: E402

DIMENSION = 384
TARGET_P95_MS = 50.0
K = 10
_VOCABULARY = (
    "tenant invoice router warranty firmware compiler parser kernel memory cache latency throughput index "
    "vector search query document chunk embedding model token stream socket session queue worker retry "
    "timeout backoff policy contract payment refund ledger account region bucket table partition key "
    "schema migration release deploy rollback alarm metric trace span agent task review approval report "
    "summary citation source page figure table chart dataset sample average median percentile budget"
)
_WORDS = _VOCABULARY.split()


def synthetic_text(rng: random.Random, words: int) -> str:
    # Zipf-like: early words are common, late words rare, as in real text.
    weights = [1.0 / (rank + 1) for rank in range(len(_WORDS))]
    return " ".join(rng.choices(_WORDS, weights=weights, k=words))


def unit_rows(rng: np.random.Generator, rows: int) -> npt.NDArray[np.float32]:
    vectors = rng.standard_normal((rows, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    cut = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cut[94]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float


def timed(run: Callable[[int], object], count: int) -> Latency:
    """Wall-clock and CPU time (all threads of the process) per query: on a shared box the two differ."""
    run(0)  # warm-up: first search loads segment readers and the vector file
    wall, cpu = [], []
    for i in range(count):
        started, cpu_started = time.perf_counter(), time.process_time()
        run(i)
        cpu.append((time.process_time() - cpu_started) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return Latency(*percentiles(wall), *percentiles(cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    rng = random.Random(42)
    vector_rng = np.random.default_rng(42)
    texts = [synthetic_text(rng, rng.randint(60, 160)) for _ in range(args.chunks)]
    vectors = unit_rows(vector_rng, args.chunks)
    other_vectors = unit_rows(vector_rng, 2_000)
    queries = [synthetic_text(rng, rng.randint(3, 8)) for _ in range(args.queries)]
    query_vectors = unit_rows(vector_rng, args.queries)

    with tempfile.TemporaryDirectory(prefix="stratus-latency-") as directory:
        index = EmbeddedSearchIndex(directory)
        started = time.perf_counter()
        index.upsert(
            [
                IndexedChunk(f"c{i}", "tenant-a", f"doc-{i // 20}", text, vectors[i], page=1, chunk_index=i % 20)
                for i, text in enumerate(texts)
            ]
        )
        index.upsert(
            [IndexedChunk(f"c{i}", "tenant-b", f"doc-{i // 20}", texts[i], other_vectors[i]) for i in range(2_000)]
        )
        build_s = time.perf_counter() - started

        # The baseline: a bare tantivy index of the same texts, same tokenizer, no tenant filter.
        schema = tantivy.SchemaBuilder().add_text_field("text", stored=True, tokenizer_name="en_stem").build()
        raw = tantivy.Index(schema)
        writer = raw.writer(heap_size=50_000_000, num_threads=1)
        for text in texts:
            writer.add_document(tantivy.Document(text=text))
        writer.commit()
        writer.wait_merging_threads()
        raw.reload()

        def raw_tantivy(i: int) -> None:
            searcher = raw.searcher()
            result = searcher.search(raw.parse_query(queries[i], ["text"]), K)
            for _, address in result.hits:
                searcher.doc(address)

        def raw_numpy(scores_of: Callable[[int], npt.NDArray[np.float32]]) -> Callable[[int], object]:
            def run(i: int) -> None:
                scores = scores_of(i)
                top = np.argpartition(-scores, K)[:K]
                top[np.argsort(-scores[top])].tolist()

            return run

        runs: dict[str, Callable[[int], object]] = {
            "keyword": lambda i: index.keyword("tenant-a", queries[i], K),
            "vector": lambda i: index.vector("tenant-a", query_vectors[i], K),
            "hybrid rrf": lambda i: hybrid_search(index, "tenant-a", queries[i], query_vectors[i], K),
            "hybrid weighted": lambda i: hybrid_search(
                index, "tenant-a", queries[i], query_vectors[i], K, fusion="weighted"
            ),
            "keyword, 5-document filter": lambda i: index.keyword(
                "tenant-a", queries[i], K, document_ids=[f"doc-{j}" for j in range(i % 400, i % 400 + 5)]
            ),
            "baseline: raw tantivy": raw_tantivy,
            "baseline: raw numpy matmul": raw_numpy(lambda i: vectors @ query_vectors[i]),
            "baseline: raw numpy einsum": raw_numpy(lambda i: np.einsum("ij,j->i", vectors, query_vectors[i])),
        }
        results = {name: timed(run, args.queries) for name, run in runs.items()}

    raw_numpy_p50 = min(results[name].p50_ms for name in results if name.startswith("baseline: raw numpy"))
    raw_p50 = results["baseline: raw tantivy"].p50_ms + raw_numpy_p50
    print(
        f"{args.chunks} chunks of tenant-a (+2000 of tenant-b), {DIMENSION}-dim vectors, {args.queries} queries, "
        f"k={K}; index built in {build_s:.1f} s"
    )
    print(f"{'query':30s} {'p50 ms':>8s} {'p95 ms':>8s} {'cpu p50':>8s} {'cpu p95':>8s}")
    for name, latency in results.items():
        print(
            f"{name:30s} {latency.p50_ms:8.3f} {latency.p95_ms:8.3f} "
            f"{latency.cpu_p50_ms:8.3f} {latency.cpu_p95_ms:8.3f}"
        )
    hybrid_p50 = results["hybrid rrf"].p50_ms
    print()
    print(
        f"hybrid rrf p50 / (raw tantivy + faster raw numpy) p50 = {hybrid_p50 / raw_p50:.1f}x "
        f"(hybrid reads {4 * K} candidates per list, fetches stored chunks and fuses)"
    )
    worst = max(latency.p95_ms for name, latency in results.items() if not name.startswith("baseline"))
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(
        f"target p95 < {TARGET_P95_MS:g} ms: {verdict} (worst wall-clock p95 {worst:.2f} ms); "
        f"load average now {_load()}"
    )


def _load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()

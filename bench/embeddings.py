"""Throughput of the embedders on this machine: passages/s for ingestion, ms per query for search.

Run: ``make bench-embeddings`` (or ``.venv/bin/python bench/embeddings.py``). Needs the local model
(``make embedding-model``); prints one line per embedder.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from stratus.ai.embeddings import Embedder
from stratus.ai.providers.hashing import HashEmbedder
from stratus.ai.providers.local import LocalOnnxEmbedder
from stratus.config.ai import AiSettings

_VOCABULARY_TEXT = (
    "the tenant api key rotates every ninety days and the console shows when it was last used by a service "
    "documents are split into chunks of about two hundred tokens before they are embedded and indexed "
    "a workflow pauses until a reviewer approves the task token then resumes with the reviewer's decision "
    "revenue grew in the third quarter while operating costs stayed flat across every region we serve "
    "invoices are issued monthly and unpaid balances older than thirty days block new deployments"
)
_VOCABULARY = _VOCABULARY_TEXT.split()


def passages(count: int, words_per_passage: int, seed: int = 7) -> list[str]:
    """Deterministic English-like passages (160 words ≈ 200 MiniLM tokens)."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        body = [rng.choice(_VOCABULARY) for _ in range(words_per_passage)]
        sentences = [" ".join(body[i : i + 16]).capitalize() + "." for i in range(0, len(body), 16)]
        texts.append(" ".join(sentences))
    return texts


def measure(embedder: Embedder, corpus: list[str], queries: list[str]) -> tuple[float, float, float]:
    """Passages/s (wall clock), passages per CPU-second, and the median ms to embed one query."""
    embedder.embed(corpus[:8])  # warm-up: first run allocates onnxruntime's buffers
    started, cpu_started = time.perf_counter(), time.process_time()
    embedder.embed(corpus)
    passages_per_s = len(corpus) / (time.perf_counter() - started)
    # CPU time is what a busy machine cannot steal: 2 x this figure is the rate on 2 idle cores.
    passages_per_cpu_s = len(corpus) / (time.process_time() - cpu_started)
    latencies = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed([query])
        latencies.append((time.perf_counter() - started) * 1000)
    return passages_per_s, passages_per_cpu_s, statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passages", type=int, default=512)
    parser.add_argument("--words", type=int, default=160, help="words per passage")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    settings = AiSettings()
    corpus = passages(args.passages, args.words)
    queries = [" ".join(text.split()[:9]) + "?" for text in passages(50, 9, seed=11)]
    embedders: list[Embedder] = [
        HashEmbedder(),
        LocalOnnxEmbedder(settings.local_model_dir, threads=args.threads, batch_size=settings.embedding_batch_size),
    ]
    print(
        f"{os.cpu_count()} cores visible, load {os.getloadavg()[0]:.1f}; {args.passages} passages of "
        f"{args.words} words; intra-op threads {args.threads}"
    )
    for embedder in embedders:
        rate, per_cpu_s, query_ms = measure(embedder, corpus, queries)
        print(
            f"{embedder.model_id:40s} {embedder.dimensions:4d} dims {rate:9.1f} passages/s "
            f"{per_cpu_s:9.1f} per CPU-s {query_ms:7.2f} ms/query"
        )


if __name__ == "__main__":
    main()

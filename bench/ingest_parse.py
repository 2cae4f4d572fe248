"""Pages/s of ``stratus.ingest`` on rfc2616.pdf (176 pages) against bare pypdfium2 text extraction.

Warm figures (PDFium and the cl100k ranks loaded once before timing), median of ``--runs``; the first
call's extra cost is printed separately because a Lambda pays it once per container.

    .venv/bin/python bench/ingest_parse.py [--runs 5] [--pdf PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# A script run by path gets only bench/ on sys.path; the ingest package lives in the layer.
sys.path.insert(0, str(REPO_ROOT / "layers" / "common"))

from stratus.ingest import get_chunker, parse_document  # noqa: E402
from stratus.ingest.tokens import default_tokenizer  # noqa: E402

DEFAULT_PDF = REPO_ROOT.parent / "shared" / "data" / "documents" / "pdf" / "rfc2616.pdf"


def bare_pypdfium2(data: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            page = document[index]
            text_page = page.get_textpage()
            text_page.get_text_range()
            text_page.close()
            page.close()
        return len(document)
    finally:
        document.close()


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF)
    args = parser.parse_args()
    if not args.pdf.is_file():
        raise SystemExit(f"no PDF at {args.pdf}")
    data = args.pdf.read_bytes()

    started = time.perf_counter()
    document = parse_document(data, "application/pdf", args.pdf.name)
    first_parse = time.perf_counter() - started
    started = time.perf_counter()
    default_tokenizer().count("warm up")
    tokenizer_load = time.perf_counter() - started
    pages = document.page_count

    rows = [("bare pypdfium2 get_text_range", median_seconds(lambda: bare_pypdfium2(data), args.runs))]
    rows.append(("parse_document", median_seconds(lambda: parse_document(data, "application/pdf"), args.runs)))
    for strategy in ("recursive", "fixed", "markdown"):
        chunker = get_chunker(strategy)
        chunk_seconds = median_seconds(partial(chunker.chunk, document), args.runs)
        rows.append((f"chunk only ({strategy}, 300/50 tokens)", chunk_seconds))
        rows.append((f"parse_document + {strategy} chunker", rows[1][1] + chunk_seconds))

    chunks = get_chunker("recursive").chunk(document)
    print(f"{args.pdf.name}: {pages} pages, {document.char_count:,} characters, {len(chunks)} recursive chunks")
    print(f"first call: parse {first_parse * 1000:.0f} ms (PDFium load), tokenizer load {tokenizer_load * 1000:.0f} ms")
    for label, seconds in rows:
        print(f"{label:<42} {seconds * 1000:8.1f} ms  {pages / seconds:8.0f} pages/s")


if __name__ == "__main__":
    main()

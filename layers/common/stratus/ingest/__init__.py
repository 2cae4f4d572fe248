"""Document parsing and chunking shared by docqa, multimodal and ragops.

``parse_document`` turns an upload into pages of normalised text; a ``Chunker`` (``get_chunker``) turns
pages into token-bounded chunks that cite one page each; ``chunk_id`` names them deterministically.
Heavy dependencies (pypdfium2, bs4, the cl100k ranks) load on first use, never at import.
"""

from stratus.ingest.chunking import (
    Chunker,
    FixedTokenChunker,
    MarkdownHeadingChunker,
    RecursiveChunker,
    get_chunker,
)
from stratus.ingest.detect import SUPPORTED_CONTENT_TYPES, detect_content_type
from stratus.ingest.errors import DocumentRejected, DocumentTooLarge, RejectionCode
from stratus.ingest.ids import chunk_id
from stratus.ingest.models import Chunk, Heading, ParsedDocument, ParsedPage
from stratus.ingest.parse import parse_document
from stratus.ingest.tokens import Tokenizer, count_tokens

__all__ = [
    "SUPPORTED_CONTENT_TYPES",
    "Chunk",
    "Chunker",
    "DocumentRejected",
    "DocumentTooLarge",
    "FixedTokenChunker",
    "Heading",
    "MarkdownHeadingChunker",
    "ParsedDocument",
    "ParsedPage",
    "RecursiveChunker",
    "RejectionCode",
    "Tokenizer",
    "chunk_id",
    "count_tokens",
    "detect_content_type",
    "get_chunker",
    "parse_document",
]

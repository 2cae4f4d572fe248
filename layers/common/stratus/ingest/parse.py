"""``parse_document``: any supported upload to pages of normalised text."""

from __future__ import annotations

from stratus.config.ingest import IngestSettings
from stratus.ingest.detect import HTML, MARKDOWN, PDF, charset_of, detect_content_type
from stratus.ingest.errors import DocumentRejected, DocumentTooLarge
from stratus.ingest.html import parse_html
from stratus.ingest.markdown import parse_markdown
from stratus.ingest.models import ParsedDocument
from stratus.ingest.pdf import parse_pdf
from stratus.ingest.text import parse_text

# Field defaults without reading the environment: Lambdas pass ``get_settings()`` instead.
_DEFAULT_SETTINGS = IngestSettings.model_construct()

_NO_TEXT_REASONS = {
    PDF: "PDF has no extractable text (scanned pages need OCR)",
    HTML: "HTML page has no visible text",
}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def parse_document(
    data: bytes,
    content_type: str | None = None,
    filename: str | None = None,
    *,
    settings: IngestSettings | None = None,
) -> ParsedDocument:
    """Detect the type (magic bytes, then ``content_type``, then ``filename``) and extract the text.

    Raises ``UnsupportedMediaType`` (415) for a type no parser handles, ``DocumentTooLarge`` (413) over
    ``ingest_max_document_bytes`` or ``ingest_max_pages``, and ``DocumentRejected`` (422) when the
    document itself is unusable; ``DocumentRejected.reason`` is the sentence to show the user.
    """
    limits = settings or _DEFAULT_SETTINGS
    if not data:
        raise DocumentRejected("file is empty", code="empty")
    if len(data) > limits.ingest_max_document_bytes:
        raise DocumentTooLarge(
            f"file is {_megabytes(len(data))}; the limit is {_megabytes(limits.ingest_max_document_bytes)}",
            code="too-large",
        )
    detected = detect_content_type(data, content_type, filename)
    charset = charset_of(content_type)
    if detected == PDF:
        document = parse_pdf(data, filename, max_pages=limits.ingest_max_pages)
    elif detected == HTML:
        document = parse_html(data, filename, charset)
    elif detected == MARKDOWN:
        document = parse_markdown(data, filename, charset)
    else:
        document = parse_text(data, filename, charset)
    if not document.has_text():
        raise DocumentRejected(_NO_TEXT_REASONS.get(detected, "document has no text"), code="no-text")
    return document

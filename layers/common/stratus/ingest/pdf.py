"""PDF text with pypdfium2, page by page; pypdfium2 is imported on first use (cold start)."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from stratus.ingest.detect import PDF
from stratus.ingest.errors import DocumentRejected, DocumentTooLarge
from stratus.ingest.models import ParsedDocument, ParsedPage
from stratus.ingest.text import normalise_extracted_text, title_from_filename

if TYPE_CHECKING:
    from pypdfium2 import PdfiumError

# PDFium is not thread-safe; the dev server parses in worker threads.
_PDFIUM_LOCK = threading.Lock()

# FPDF_GetLastError codes (fpdfview.h).
_ERR_SUCCESS, _ERR_PASSWORD, _ERR_SECURITY = 0, 4, 5

_METADATA_KEYS = {
    "Author": "author",
    "Subject": "subject",
    "Keywords": "keywords",
    "Creator": "creator",
    "Producer": "producer",
    "CreationDate": "created",
    "ModDate": "modified",
}
# Producers often store the source file name as the title ("rfc2616.txt", "Microsoft Word - a.docx").
_FILE_NAME_TITLE = re.compile(
    r"^(?:Microsoft \w+ - .*|[\w .()-]+\.(?:txt|docx?|pdf|rtf|odt|tex|html?|pptx?))$", re.IGNORECASE
)


def _rejection(exc: PdfiumError) -> DocumentRejected:
    if exc.err_code == _ERR_PASSWORD:
        return DocumentRejected("PDF is encrypted (password-protected)", code="encrypted")
    if exc.err_code == _ERR_SECURITY:
        return DocumentRejected("PDF is encrypted with an unsupported security handler", code="encrypted")
    if exc.err_code == _ERR_SUCCESS:
        return DocumentRejected("PDF has no pages", code="empty")
    return DocumentRejected("PDF is corrupt or not a PDF", code="corrupt")


def _title(metadata: dict[str, str], filename: str | None) -> str | None:
    title = " ".join(metadata.get("Title", "").split())
    if title and not _FILE_NAME_TITLE.match(title):
        return title
    return title_from_filename(filename)


def parse_pdf(data: bytes, filename: str | None, *, max_pages: int) -> ParsedDocument:
    """Every page's text in order, 1-based page numbers kept, pages released as soon as they are read."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise _rejection(exc) from exc
        try:
            page_count = len(document)
            if page_count > max_pages:
                raise DocumentTooLarge(f"PDF has {page_count} pages; the limit is {max_pages}", code="too-many-pages")
            pages: list[ParsedPage] = []
            for index in range(page_count):
                try:
                    page = document[index]
                    try:
                        text_page = page.get_textpage()
                        try:
                            raw = text_page.get_text_range()
                        finally:
                            text_page.close()
                    finally:
                        page.close()
                except pdfium.PdfiumError as exc:
                    raise DocumentRejected(f"PDF page {index + 1} is corrupt", code="corrupt") from exc
                pages.append(ParsedPage(index + 1, normalise_extracted_text(raw)))
            raw_metadata: dict[str, str] = document.get_metadata_dict(skip_empty=True)
            version = document.get_version()
        finally:
            document.close()
    metadata: dict[str, str | int] = {
        name: " ".join(raw_metadata[key].split()) for key, name in _METADATA_KEYS.items() if key in raw_metadata
    }
    if version:
        metadata["pdf_version"] = f"{version // 10}.{version % 10}"
    metadata["empty_pages"] = sum(1 for page in pages if not page.text)
    return ParsedDocument(content_type=PDF, title=_title(raw_metadata, filename), pages=pages, metadata=metadata)

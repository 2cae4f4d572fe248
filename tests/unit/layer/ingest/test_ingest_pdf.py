"""PDF parsing on the real documents and on small PDFs built in the test."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from stratus.config.ingest import IngestSettings
from stratus.ingest import DocumentRejected, DocumentTooLarge, ParsedDocument, parse_document

BuildPdf = Callable[..., bytes]

# The PDF stamps this line on every page; the .txt it was rendered from does not have it.
RFCVIEW_STAMP = "created by http://www.rfcview.org"


def _word_similarity(extracted: str, truth: str) -> float:
    return difflib.SequenceMatcher(None, extracted.split(), truth.split(), autojunk=False).ratio()


def test_rfc2616_keeps_its_176_pages_in_order(rfc2616: ParsedDocument) -> None:
    # Then
    assert rfc2616.content_type == "application/pdf"
    assert rfc2616.page_count == 176
    assert [page.number for page in rfc2616.pages] == list(range(1, 177))
    assert all(f"[Page {page.number}]" in page.text for page in rfc2616.pages)


def test_rfc2616_text_matches_the_plain_text_rfc_on_every_page(
    rfc2616: ParsedDocument, rfc2616_truth_pages: list[str]
) -> None:
    # Given
    assert len(rfc2616_truth_pages) == rfc2616.page_count
    # When
    similarities = [
        _word_similarity(page.text.replace(RFCVIEW_STAMP, ""), truth)
        for page, truth in zip(rfc2616.pages, rfc2616_truth_pages, strict=True)
    ]
    # Then
    worst = min(range(len(similarities)), key=similarities.__getitem__)
    print(
        f"word similarity to rfc2616.txt: min {similarities[worst]:.4f} (page {worst + 1}), "
        f"mean {sum(similarities) / len(similarities):.4f}"
    )
    assert similarities[worst] > 0.95


def test_a_known_phrase_is_on_its_known_page(rfc2616: ParsedDocument) -> None:
    # Given: section 14.20 starts on page 126 of the RFC
    phrase = "The Expect request-header field is used to indicate that particular server"
    # When
    pages = [page.number for page in rfc2616.pages if phrase in " ".join(page.text.split())]
    # Then
    assert pages == [126]


def test_pdf_text_is_normalised(rfc2616: ParsedDocument) -> None:
    text = "\n".join(page.text for page in rfc2616.pages)
    assert "\r" not in text and "\f" not in text and "\ufffe" not in text
    assert "  " not in text
    assert "\n\n\n" not in text
    assert all(line == line.strip() for line in text.split("\n"))
    # a line-end hyphen inside a compound joins the lines and keeps the hyphen
    assert "case-insensitive" in text


def test_pdf_metadata_and_title(rfc2616: ParsedDocument, documents_dir: Path) -> None:
    # Then: the producer stored the source file name as title, so the upload's file name is used
    assert rfc2616.title == "rfc2616"
    assert rfc2616.metadata["producer"] == "PDF::API2 0.69 [linux]"
    assert rfc2616.metadata["empty_pages"] == 0
    # When
    google_doc = parse_document((documents_dir / "pdf" / "google-doc-document.pdf").read_bytes(), None, None)
    # Then
    assert google_doc.title == "PDF Example Document"


def test_google_doc_holds_the_zen_of_python(documents_dir: Path) -> None:
    # When
    document = parse_document(
        (documents_dir / "pdf" / "google-doc-document.pdf").read_bytes(), "application/pdf", "doc.pdf"
    )
    # Then
    assert document.page_count == 1
    text = document.pages[0].text
    assert text.startswith("Example document\nBeautiful is better than ugly.\nExplicit is better than implicit.")
    assert "There should be one-- and preferably only one --obvious way to do it." in text
    assert "Namespaces are one honking great idea" in text


def test_multicolumn_pdf_reads_column_by_column_and_rejoins_hyphenated_words(documents_dir: Path) -> None:
    # When
    document = parse_document((documents_dir / "pdf" / "multicolumn.pdf").read_bytes(), None, "multicolumn.pdf")
    # Then
    assert document.page_count == 3
    first = " ".join(document.pages[0].text.split())
    # the first column's sentence continues on its own column, not across into the second one
    assert "Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Ut purus elit, vestibulum ut, placerat" in first
    # words PDFium marked as hyphenated are whole again
    assert "consectetuer id, vulputate a, magna" in first
    assert "adip" + "\ufffe" not in first
    assert "Table 1: EU Countries Information" in document.pages[2].text


def test_pdf_built_in_the_test_keeps_empty_pages_numbered(pdf_builder: BuildPdf) -> None:
    # Given
    data = pdf_builder([["First page", "with two lines"], [], ["Third (and last) page"]])
    # When
    document = parse_document(data, "application/pdf", "built.pdf")
    # Then
    assert [(page.number, page.text) for page in document.pages] == [
        (1, "First page\nwith two lines"),
        (2, ""),
        (3, "Third (and last) page"),
    ]
    assert document.metadata["empty_pages"] == 1


def test_password_protected_pdf_is_rejected_as_encrypted(pdf_builder: BuildPdf) -> None:
    # Given: a real RC4-encrypted PDF that opens with its password
    data = pdf_builder([["Secret text"]], user_password="secret")
    with pdfium.PdfDocument(data, password="secret") as unlocked:
        assert unlocked[0].get_textpage().get_text_range() == "Secret text"
    # When
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(data, "application/pdf", "secret.pdf")
    # Then
    assert rejected.value.code == "encrypted"
    assert rejected.value.reason == "PDF is encrypted (password-protected)"
    assert rejected.value.status == 422


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + bytes(range(256)) * 8, b"%PDF-1.4\n1 0 obj << /Type /Catalog"],
    ids=["garbage-after-header", "truncated"],
)
def test_corrupt_pdf_is_rejected(data: bytes) -> None:
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(data, "application/pdf", "broken.pdf")
    assert rejected.value.code == "corrupt"
    assert rejected.value.reason == "PDF is corrupt or not a PDF"


def test_declared_pdf_that_is_not_a_pdf_is_rejected_as_corrupt() -> None:
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(b"just some words", "application/pdf", "fake.pdf")
    assert rejected.value.code == "corrupt"


def test_pdf_without_text_is_rejected(pdf_builder: BuildPdf) -> None:
    # Given: pages that draw nothing, like a scan without its images
    data = pdf_builder([[], []])
    # When
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(data, "application/pdf", "scan.pdf")
    # Then
    assert rejected.value.code == "no-text"
    assert rejected.value.reason == "PDF has no extractable text (scanned pages need OCR)"


def test_pdf_over_the_page_limit_is_rejected_before_extraction(pdf_builder: BuildPdf) -> None:
    # Given
    data = pdf_builder([["page"]] * 3)
    settings = IngestSettings(ingest_max_pages=2)
    # When
    with pytest.raises(DocumentTooLarge) as rejected:
        parse_document(data, "application/pdf", "long.pdf", settings=settings)
    # Then
    assert rejected.value.code == "too-many-pages"
    assert rejected.value.reason == "PDF has 3 pages; the limit is 2"
    assert rejected.value.status == 413


def test_truncated_upload_of_a_real_pdf_is_rejected_as_corrupt(documents_dir: Path) -> None:
    # Given: an upload cut off halfway
    data = (documents_dir / "pdf" / "rfc2616.pdf").read_bytes()
    # When
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(data[: len(data) // 2], "application/pdf", "rfc2616.pdf")
    # Then
    assert rejected.value.code == "corrupt"

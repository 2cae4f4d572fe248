"""Plain text: decoding fallbacks, form-feed pages, rejections."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from stratus.config.ingest import IngestSettings
from stratus.ingest import DocumentRejected, DocumentTooLarge, parse_document


@pytest.mark.parametrize(
    "data",
    [
        "Café naïve — “quoted”".encode(),
        codecs.BOM_UTF8 + "Café naïve — “quoted”".encode(),
        codecs.BOM_UTF16_LE + "Café naïve — “quoted”".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Café naïve — “quoted”".encode("utf-16-be"),
        codecs.BOM_UTF32_LE + "Café naïve — “quoted”".encode("utf-32-le"),
        "Café naïve — “quoted”".encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "utf-32-le-bom", "windows-1252"],
)
def test_text_is_decoded_whatever_its_encoding(data: bytes) -> None:
    # When
    document = parse_document(data, "text/plain", "note.txt")
    # Then
    assert document.pages[0].text == "Café naïve — “quoted”"
    assert document.title == "note"


def test_declared_charset_is_used_when_the_bytes_are_not_utf8() -> None:
    # Given: ISO-8859-7 (Greek) decodes differently from Windows-1252
    data = "Καλημέρα κόσμε".encode("iso-8859-7")
    # When
    document = parse_document(data, "text/plain; charset=iso-8859-7", None)
    # Then
    assert document.pages[0].text == "Καλημέρα κόσμε"


def test_latin1_fallback_is_refused_for_binary_looking_bytes() -> None:
    # Given: bytes that are not UTF-8 and decode to mostly control characters in any single-byte charset
    data = bytes(range(1, 32)) * 20 + b"\xff\xfe"[::-1]
    # When
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(data, "text/plain", "dump.txt")
    # Then
    assert rejected.value.code == "undecodable"
    assert rejected.value.reason == "file is not readable text (unknown character encoding)"


def test_nul_bytes_mean_binary_not_text() -> None:
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(b"abc\x00def", "text/plain", "x.txt")
    assert rejected.value.code == "binary"


def test_bom_with_invalid_payload_is_undecodable() -> None:
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(codecs.BOM_UTF8 + b"ok \xff\xfe not utf-8", "text/plain", None)
    assert rejected.value.code == "undecodable"


@pytest.mark.parametrize("data", [b"", b" \n\t \r\n"], ids=["empty", "whitespace"])
def test_empty_file_is_rejected(data: bytes) -> None:
    # When
    with pytest.raises(DocumentRejected) as rejected:
        parse_document(data, "text/plain", "empty.txt")
    # Then
    assert (rejected.value.code, rejected.value.reason) in {
        ("empty", "file is empty"),
        ("no-text", "document has no text"),
    }


def test_empty_file_reason_is_file_is_empty() -> None:
    with pytest.raises(DocumentRejected, match=r"^file is empty$"):
        parse_document(b"", "application/pdf", "empty.pdf")


def test_file_over_the_byte_limit_is_rejected_before_parsing() -> None:
    # Given
    settings = IngestSettings(ingest_max_document_bytes=1024 * 1024)
    # When
    with pytest.raises(DocumentTooLarge) as rejected:
        parse_document(b"x" * (3 * 1024 * 1024 // 2), "text/plain", None, settings=settings)
    # Then
    assert rejected.value.code == "too-large"
    assert rejected.value.reason == "file is 1.5 MB; the limit is 1.0 MB"
    assert rejected.value.status == 413
    assert isinstance(rejected.value, DocumentRejected)


def test_form_feeds_split_pages_like_the_pdf_rendering(documents_dir: Path) -> None:
    # When
    document = parse_document((documents_dir / "pdf" / "rfc2616.txt").read_bytes(), None, "rfc2616.txt")
    # Then
    assert document.page_count == 176
    assert document.pages[0].text.startswith("Network Working Group")
    assert document.pages[125].text.endswith("[Page 126]")
    # layout is kept for plain text: indentation survives, trailing spaces and CRs do not
    assert "\n   The Expect request-header field is used to indicate that particular\n   server" in (
        document.pages[125].text
    )


def test_plain_text_normalisation() -> None:
    # Given
    data = "line one  \r\nline\u00a0two\r\rpara\u200b two\u2028\n\n\n\nlast\x07".encode()
    # When
    text = parse_document(data, "text/plain", None).pages[0].text
    # Then
    assert text == "line one\nline two\n\npara two\n\nlast"

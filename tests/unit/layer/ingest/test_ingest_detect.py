"""Content type detection: magic bytes, then declared type, then extension."""

from __future__ import annotations

import pytest

from stratus.errors import UnsupportedMediaType
from stratus.ingest import detect_content_type, parse_document
from stratus.ingest.detect import charset_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "content_type", "filename", "expected"),
    [
        (b"%PDF-1.7\n...", "text/plain", "notes.txt", "application/pdf"),  # magic beats everything
        (b"\xef\xbb\xbfjunk%PDF-1.4", None, None, "application/pdf"),  # header after leading junk
        (b"plain words", "text/plain; charset=utf-8", None, "text/plain"),
        (b"<p>hi</p>", "Text/HTML", "page.txt", "text/html"),  # declared beats extension
        (b"# Title", "text/x-markdown", None, "text/markdown"),
        (b"# Title", "text/plain", "README.md", "text/markdown"),  # .md refines text/plain
        (b"# Title", "application/octet-stream", "README.markdown", "text/markdown"),
        (b"<html><body>x</body></html>", None, "index.HTM", "text/html"),
        (b"words", "", "notes.txt", "text/plain"),
        (b"  <!DOCTYPE html><html></html>", None, None, "text/html"),  # no hints: sniffed
        (b"words without any hint", None, None, "text/plain"),
    ],
)
def test_detects_supported_types(data: bytes, content_type: str | None, filename: str | None, expected: str) -> None:
    assert detect_content_type(data, content_type, filename) == expected


@pytest.mark.parametrize(
    ("data", "content_type", "filename", "named"),
    [
        (PNG, "text/plain", "scan.txt", "image/png"),  # magic names the real type
        (b"PK\x03\x04rest-of-zip", None, "report.docx", "application/zip"),
        (b"\xff\xd8\xff\xe0jpeg", None, None, "image/jpeg"),
        (b"col1,col2\n1,2\n", "text/csv", "data.csv", "text/csv"),
        (b"binary", "application/msword", None, "application/msword"),
        (b"a,b\n", None, "data.csv", "text/csv"),  # unknown extension named by its usual type
    ],
)
def test_unsupported_type_is_a_415_naming_the_type(
    data: bytes, content_type: str | None, filename: str | None, named: str
) -> None:
    # When
    with pytest.raises(UnsupportedMediaType) as unsupported:
        parse_document(data, content_type, filename)
    # Then
    assert unsupported.value.status == 415
    assert named in unsupported.value.detail
    assert unsupported.value.extensions["content_type"] == named
    assert "application/pdf" in unsupported.value.detail  # says what would work


def test_charset_parameter_is_read_from_the_content_type() -> None:
    assert charset_of('text/plain; format=flowed; charset="ISO-8859-1"') == "iso-8859-1"
    assert charset_of("text/plain") is None
    assert charset_of(None) is None

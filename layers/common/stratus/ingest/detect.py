"""Which parser a document needs: magic bytes first, then the declared type, then the file extension."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from stratus.errors import UnsupportedMediaType

PDF = "application/pdf"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
SUPPORTED_CONTENT_TYPES = (PDF, TEXT, MARKDOWN, HTML)

# PDF readers accept junk before the header, so it is searched for in the first kilobyte.
_PDF_MAGIC = b"%PDF-"
_PDF_HEADER_WINDOW = 1024

# Binary formats named so a 415 says what was uploaded instead of failing to decode it as text.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"{\\rtf", "application/rtf"),
    (b"\x7fELF", "application/x-executable"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
)

_DECLARED_ALIASES = {
    "application/pdf": PDF,
    "application/x-pdf": PDF,
    "text/plain": TEXT,
    "text/markdown": MARKDOWN,
    "text/x-markdown": MARKDOWN,
    "text/html": HTML,
    "application/xhtml+xml": HTML,
}

# Declared types that say nothing about the content: detection moves on to the extension.
_GENERIC_DECLARED = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}

_EXTENSIONS = {
    ".pdf": PDF,
    ".txt": TEXT,
    ".text": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".mdown": MARKDOWN,
    ".mkd": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
}


def media_type_of(content_type: str | None) -> str:
    """``"Text/HTML; charset=utf-8"`` → ``"text/html"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'").lower()
    return None


def _magic_type(data: bytes) -> str | None:
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:
        return PDF
    for magic, media_type in _BINARY_MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _extension_type(filename: str | None) -> str | None:
    if not filename:
        return None
    return _EXTENSIONS.get(PurePosixPath(filename.replace("\\", "/")).suffix.lower())


def _looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _unsupported(media_type: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"documents of type {media_type} are not supported; supported types: " + ", ".join(SUPPORTED_CONTENT_TYPES),
        content_type=media_type,
        supported=list(SUPPORTED_CONTENT_TYPES),
    )


def detect_content_type(data: bytes, content_type: str | None, filename: str | None) -> str:
    """One of ``SUPPORTED_CONTENT_TYPES``, or ``UnsupportedMediaType`` (415) naming what was found.

    A declared ``text/plain`` with a Markdown extension is Markdown: browsers and S3 clients often label
    ``.md`` files as plain text, and Markdown is a refinement of it. Without any declared type or known
    extension, HTML is recognised by its doctype and anything else is tried as plain text.
    """
    magic = _magic_type(data)
    if magic == PDF:
        return PDF
    if magic is not None:
        raise _unsupported(magic)
    declared = media_type_of(content_type)
    by_extension = _extension_type(filename)
    if declared not in _GENERIC_DECLARED:
        detected = _DECLARED_ALIASES.get(declared)
        if detected is None:
            raise _unsupported(declared)
        if detected == TEXT and by_extension == MARKDOWN:
            return MARKDOWN
        return detected
    if by_extension is not None:
        return by_extension
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if suffix:
        raise _unsupported(mimetypes.guess_type(f"document{suffix}")[0] or f"{suffix} files")
    return HTML if _looks_like_html(data) else TEXT

"""Bytes to text, text normalisation, and the plain-text parser."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import PurePosixPath

from stratus.ingest.detect import TEXT
from stratus.ingest.errors import DocumentRejected
from stratus.ingest.models import ParsedDocument, ParsedPage

# Longest BOMs first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Share of control characters above which single-byte decoding is judged to be decoding binary data.
_MAX_CONTROL_SHARE = 0.01

_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b]")
_UNICODE_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
_SPACE_RUNS = re.compile(r"[ \t]+")
_BLANK_LINE_RUNS = re.compile(r"\n{3,}")
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
# PDFium marks a hyphen it recognises as hyphenation with U+FFFE (older builds: U+0002).
_SOFT_HYPHEN_BREAK = re.compile(r"[\ufffe\x02\u00ad][ \t]*(?:\r\n|\r|\n)?[ \t]*")
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n(?=[^\W\d_])")


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for char in text if unicodedata.category(char) == "Cc" and char not in "\t\n\r\f")
    return controls / len(text)


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Decode a text file: BOM, then strict UTF-8, then the declared charset, then Windows-1252/Latin-1.

    Single-byte decoding never fails, so its result is accepted only when it looks like text;
    otherwise the file is rejected as undecodable rather than indexed as mojibake.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentRejected(
                    f"file is not valid {encoding.upper()} text despite its byte-order mark",
                    code="undecodable",
                ) from exc
    if b"\x00" in data:
        raise DocumentRejected("file contains binary data, not text", code="binary")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = [charset] if charset else []
    candidates += ["cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if _control_share(text) <= _MAX_CONTROL_SHARE:
            return text
    raise DocumentRejected("file is not readable text (unknown character encoding)", code="undecodable")


def _normalise_common(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _NEWLINES.sub("\n", text)
    text = text.replace("\f", "\n\n")
    text = _UNICODE_SPACES.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    return _CONTROLS.sub("", text)


def normalise_layout_text(text: str) -> str:
    """Text whose layout carries meaning (plain text, Markdown, code): indentation and tabs are kept.

    Newlines become ``\\n``, Unicode spaces plain spaces, trailing spaces and runs of blank lines go.
    """
    text = _normalise_common(text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINE_RUNS.sub("\n\n", text).strip("\n")


def normalise_extracted_text(text: str) -> str:
    """Text extracted from a rendered page (PDF): layout spacing is noise and is collapsed.

    A line-end hyphen that PDFium marks as hyphenation is removed and the word rejoined. A visible
    line-end hyphen between letters joins the two lines but keeps the hyphen: it is usually a compound
    (``case-\\ninsensitive``) and telling it from hyphenation would need a dictionary.
    """
    text = _SOFT_HYPHEN_BREAK.sub("", text)
    text = text.translate(_LIGATURES)
    text = _normalise_common(text)
    text = "\n".join(_SPACE_RUNS.sub(" ", line).strip() for line in text.split("\n"))
    text = _LINE_END_HYPHEN.sub("-", text)
    return _BLANK_LINE_RUNS.sub("\n\n", text).strip()


def title_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    stem = PurePosixPath(filename.replace("\\", "/")).stem.strip()
    return stem or None


def parse_text(data: bytes, filename: str | None, charset: str | None = None) -> ParsedDocument:
    """Plain text. Form feeds separate pages (RFCs and printer output use them), so citations keep pages."""
    text = decode_text(data, charset)
    raw_pages = text.split("\f")
    if len(raw_pages) > 1 and not raw_pages[-1].strip():
        raw_pages.pop()
    pages = [ParsedPage(number, normalise_layout_text(raw)) for number, raw in enumerate(raw_pages, 1)]
    return ParsedDocument(content_type=TEXT, title=title_from_filename(filename), pages=pages, metadata={})

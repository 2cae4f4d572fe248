"""Real documents from /work/shared/data/documents and small PDFs built byte by byte."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stratus.ingest import ParsedDocument, parse_document

DOCUMENTS_DIR = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "documents"


@pytest.fixture(scope="session")
def documents_dir() -> Path:
    if not (DOCUMENTS_DIR / "SOURCES.md").is_file():
        pytest.skip(f"shared documents not found at {DOCUMENTS_DIR} (see data/documents/SOURCES.md)")
    return DOCUMENTS_DIR


@pytest.fixture(scope="session")
def rfc2616(documents_dir: Path) -> ParsedDocument:
    return parse_document((documents_dir / "pdf" / "rfc2616.pdf").read_bytes(), "application/pdf", "rfc2616.pdf")


@pytest.fixture(scope="session")
def rfc2616_truth_pages(documents_dir: Path) -> list[str]:
    """The plain-text RFC the PDF was rendered from; form feeds separate its 176 pages."""
    pages = (documents_dir / "pdf" / "rfc2616.txt").read_text(encoding="ascii").split("\f")
    return pages[:-1] if not pages[-1].strip() else pages


# Standard security handler, revision 2 (PDF 1.7 spec, 7.6.3): RC4 with a 40-bit key.
_PASSWORD_PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _padded(password: str) -> bytes:
    return (password.encode("latin-1") + _PASSWORD_PADDING)[:32]


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")


def build_pdf(pages: list[list[str]], *, user_password: str | None = None) -> bytes:
    """A PDF whose page i shows the lines ``pages[i]`` in Helvetica; encrypted when a password is given."""
    file_id = hashlib.md5(repr(pages).encode()).digest()
    permissions = -4
    encryption_key = b""
    owner_entry = user_entry = b""
    if user_password is not None:
        owner_entry = _rc4(hashlib.md5(_padded("owner-" + user_password)).digest()[:5], _padded(user_password))
        digest = hashlib.md5(_padded(user_password) + owner_entry + struct.pack("<i", permissions) + file_id)
        encryption_key = digest.digest()[:5]
        user_entry = _rc4(encryption_key, _PASSWORD_PADDING)

    def stream(number: int, content: bytes) -> bytes:
        if encryption_key:
            salted = encryption_key + number.to_bytes(3, "little") + b"\x00\x00"
            object_key = hashlib.md5(salted).digest()[:10]
            content = _rc4(object_key, content)
        return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"

    objects: dict[int, bytes] = {3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    for index, lines in enumerate(pages):
        page_number, content_number = 4 + 2 * index, 5 + 2 * index
        kids.append(b"%d 0 R" % page_number)
        objects[page_number] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_number
        )
        shown = b" T* ".join(b"(" + _escape(line) + b") Tj" for line in lines)
        body = b"BT /F1 12 Tf 14 TL 72 720 Td " + shown + b" ET" if lines else b""
        objects[content_number] = stream(content_number, body)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(pages)
    trailer_extra = b""
    if encryption_key:
        encrypt_number = max(objects) + 1
        objects[encrypt_number] = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
            owner_entry.hex().encode(),
            user_entry.hex().encode(),
            permissions,
        )
        trailer_extra = b" /Encrypt %d 0 R" % encrypt_number

    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(output)
        output += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (max(objects) + 1)
    for number in range(1, max(objects) + 1):
        output += b"%010d 00000 n \n" % offsets[number]
    output += b"trailer\n<< /Size %d /Root 1 0 R" % (max(objects) + 1) + trailer_extra
    output += b" /ID [<" + file_id.hex().encode() + b"> <" + file_id.hex().encode() + b">] >>\n"
    output += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(output)


@pytest.fixture
def pdf_builder() -> Iterator[Callable[..., bytes]]:
    yield build_pdf

"""Errors that mean the document itself cannot be ingested.

The ingest worker stores ``DocumentRejected.reason`` as the document's ``failed`` reason and branches
on ``code``, never on the message text.
"""

from __future__ import annotations

from typing import Literal

from stratus.errors import PayloadTooLarge, ValidationFailed

RejectionCode = Literal[
    "empty", "too-large", "too-many-pages", "encrypted", "corrupt", "no-text", "undecodable", "binary"
]


class DocumentRejected(ValidationFailed):
    """The bytes were read but cannot become text: retrying the same object version will not help."""

    status, title, type_slug = 422, "Document rejected", "document-rejected"

    def __init__(self, reason: str, *, code: RejectionCode) -> None:
        super().__init__(reason, reason_code=code)
        self.reason = reason
        self.code: RejectionCode = code


class DocumentTooLarge(DocumentRejected, PayloadTooLarge):
    """Over a size or page limit: still a rejection for the worker, a 413 for an HTTP caller."""

    status, title, type_slug = 413, "Document too large", "payload-too-large"

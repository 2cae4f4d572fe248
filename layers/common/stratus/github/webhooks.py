"""Webhook signatures: ``X-Hub-Signature-256`` is ``sha256=`` + the hex HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_PREFIX = "sha256="


def sign_payload(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body`` signed with ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_matches(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of a signature header against ``body``; a missing or malformed header never matches."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign_payload(secret, body).encode(), header.strip().encode())

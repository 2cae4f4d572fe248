"""Deterministic chunk ids: redelivering the same object version rewrites the same index entries."""

from __future__ import annotations

import hashlib
import json


def chunk_id(tenant_id: str, document_id: str, version: str | int, index: int) -> str:
    """128-bit hex id of chunk ``index`` of one version of a document; the tenant is part of the hash.

    The fields are JSON-encoded before hashing, so no two different tuples can collide by concatenation.
    """
    if index < 0:
        raise ValueError(f"chunk index must be >= 0, got {index}")
    key = json.dumps([tenant_id, document_id, str(version), index], separators=(",", ":"))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]

"""Opaque cursor pagination bound to the tenant that asked for it."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel

from stratus.errors import ValidationFailed


class Page[T](BaseModel):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(tenant_id: str, position: dict[str, Any] | None) -> str | None:
    if not position:
        return None
    raw = json.dumps({"t": tenant_id, "p": position}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(tenant_id: str, cursor: str | None) -> dict[str, Any] | None:
    """The stored position, or 422 when the cursor is malformed or was issued to another tenant."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = data["p"]
        owner = data["t"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("cursor is malformed", field="cursor") from exc
    if owner != tenant_id or not isinstance(position, dict):
        raise ValidationFailed("cursor is malformed", field="cursor")
    return position

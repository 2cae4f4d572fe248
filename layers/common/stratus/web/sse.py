"""Server-sent events (text/event-stream): the one encoder every streaming route uses.

Behind API Gateway + Mangum a stream arrives whole (Mangum buffers); under the Lambda Web Adapter
(RESPONSE_STREAM) and the dev server each frame is flushed as it is produced.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi.responses import StreamingResponse

__all__ = ["HEADERS", "MEDIA_TYPE", "event_stream", "format_event", "format_retry", "wants_event_stream"]

MEDIA_TYPE = "text/event-stream"
# Proxies (nginx and friends) buffer responses unless told not to; caches must never keep a stream.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_REFUSED = frozenset({"q=0", "q=0.0", "q=0.00", "q=0.000"})


def wants_event_stream(accept: str | None) -> bool:
    """True when the Accept header names text/event-stream (with any parameters, q > 0)."""
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() == MEDIA_TYPE and not any(p.replace(" ", "").lower() in _REFUSED for p in params):
            return True
    return False


def format_event(event: str, data: Mapping[str, Any], event_id: int | str | None = None) -> bytes:
    """One SSE frame. JSON never contains a raw newline, so the data fits on one ``data:`` line."""
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str))
    return ("\n".join(lines) + "\n\n").encode()


def format_retry(milliseconds: int) -> bytes:
    """Tells EventSource how long to wait before it reconnects (with Last-Event-ID)."""
    return f"retry: {milliseconds}\n\n".encode()


def event_stream(frames: Iterable[bytes]) -> StreamingResponse:
    """A streaming response of already-encoded frames, with the headers that keep proxies from buffering."""
    return StreamingResponse(iter(frames), media_type=MEDIA_TYPE, headers=HEADERS)

"""Server-sent events (text/event-stream) for streamed answers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from docqa.answering import AnswerEvent, event_payload

MEDIA_TYPE = "text/event-stream"
# Proxies (nginx and friends) buffer responses unless told not to; caches must never keep a stream.
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def wants_event_stream(accept: str | None) -> bool:
    """True when the Accept header names text/event-stream (with any parameters, q > 0)."""
    for part in (accept or "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() != MEDIA_TYPE:
            continue
        refused = any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
        if not refused:
            return True
    return False


def format_event(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    """One SSE frame. JSON never contains a raw newline, so the data fits on one ``data:`` line."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str))
    return ("\n".join(lines) + "\n\n").encode()


def encode(events: Iterable[AnswerEvent]) -> Iterator[bytes]:
    """Each answer event as one frame, flushed as soon as it exists."""
    for number, event in enumerate(events):
        payload = event_payload(event)
        yield format_event(str(payload.pop("type")), payload, number)

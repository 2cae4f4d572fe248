"""Short previews of long texts, for events, views and prompts (no dependencies: the API imports it)."""

from __future__ import annotations


def excerpt(text: str, limit: int = 400) -> str:
    """``text`` trimmed to ``limit`` characters, ending in an ellipsis when it was cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

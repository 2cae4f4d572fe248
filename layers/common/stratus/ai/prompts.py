"""Prompt rendering shared by every chat adapter: one system text plus alternating turns, and citations.

Adapters import this module (never the factories), so rendering a request cannot pull in a provider.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stratus.ai.types import ChatMessage, ChatRequest, Passage

__all__ = ["cited_ids", "format_passages", "render_prompt"]

_CITATION = re.compile(r"\[(\d{1,3})\]")


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages as the model sees them: ``[n] (document, page)`` then the text."""
    blocks = []
    for passage in passages:
        where = passage.document_id if passage.page is None else f"{passage.document_id}, page {passage.page}"
        blocks.append(f"[{passage.citation_id}] ({where})\n{passage.text.strip()}")
    return "\n\n".join(blocks)


def cited_ids(text: str, passages: Sequence[Passage]) -> tuple[int, ...]:
    """Citation ids of ``passages`` that ``text`` cites as ``[n]``, in order of first appearance."""
    known = {passage.citation_id for passage in passages}
    seen: dict[int, None] = {}
    for match in _CITATION.finditer(text):
        number = int(match.group(1))
        if number in known:
            seen.setdefault(number, None)
    return tuple(seen)


def render_prompt(request: ChatRequest) -> tuple[str, list[ChatMessage]]:
    """The system text and the turns to send: history first, then the user's turn with its evidence.

    Turns are normalised for providers that insist on it (Bedrock Converse): the conversation starts
    with a user turn, roles alternate, and consecutive turns of one role are merged.
    """
    *history, last = request.messages
    if request.purpose == "condense":
        transcript = "\n".join(f"{m.role.capitalize()}: {m.content}" for m in history)
        content = f"Conversation:\n{transcript}\n\nFollow-up question: {last.content}\n\nStandalone question:"
        return request.system, [ChatMessage(role="user", content=content)]
    if request.purpose == "answer" or request.passages:
        evidence = format_passages(request.passages) if request.passages else "(no passages were found)"
        content = f"Passages:\n{evidence}\n\nQuestion: {last.content}"
        last = ChatMessage(role="user", content=content)
    return request.system, _alternating([*history, last])


def _alternating(messages: list[ChatMessage]) -> list[ChatMessage]:
    turns: list[ChatMessage] = []
    for message in messages:
        if not turns and message.role != "user":
            continue
        if turns and turns[-1].role == message.role:
            merged = f"{turns[-1].content}\n\n{message.content}"
            turns[-1] = ChatMessage(role=message.role, content=merged)
        else:
            turns.append(message)
    return turns

"""Grounded-answer prompts, provider-agnostic: the system prompt, numbered passages, history, question.

Services build requests here (`answer_request`, `condense_question`); chat adapters render any request
into one system text plus alternating user/assistant turns with `render_prompt`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from stratus.ai.types import ChatMessage, ChatRequest, Passage

if TYPE_CHECKING:
    from stratus.ai.chat import ChatModel

__all__ = [
    "CONDENSE_SYSTEM_PROMPT",
    "GROUNDED_SYSTEM_PROMPT",
    "answer_request",
    "cited_ids",
    "condense_question",
    "condense_request",
    "format_passages",
    "render_prompt",
]

GROUNDED_SYSTEM_PROMPT: Final = (
    "You answer questions about the user's documents using only the numbered passages provided with the "
    "question. Cite every statement with the number of the passage that supports it, in square brackets, "
    "like [1] or [2][3]. If the passages do not contain the answer, say plainly that the documents do not "
    "answer the question; never guess and never use outside knowledge. Answer in the language of the "
    "question, concisely."
)

CONDENSE_SYSTEM_PROMPT: Final = (
    "Rewrite the user's follow-up question as one standalone question that can be understood without the "
    "conversation: replace pronouns and fill in omitted words with the names and terms they refer to. If "
    "the question already stands alone, return it unchanged. Reply with the question only."
)

DEFAULT_HISTORY_MESSAGES: Final = 6

_CITATION = re.compile(r"\[(\d{1,3})\]")


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages as the model sees them: ``[n] (document, page)`` then the text."""
    blocks = []
    for passage in passages:
        where = passage.document_id if passage.page is None else f"{passage.document_id}, page {passage.page}"
        blocks.append(f"[{passage.citation_id}] ({where})\n{passage.text.strip()}")
    return "\n\n".join(blocks)


def answer_request(
    question: str,
    passages: Sequence[Passage],
    history: Sequence[ChatMessage] = (),
    *,
    max_tokens: int = 1024,
    max_history_messages: int = DEFAULT_HISTORY_MESSAGES,
    system: str = GROUNDED_SYSTEM_PROMPT,
) -> ChatRequest:
    """A request for an answer grounded in ``passages``, with the latest turns of the conversation."""
    recent = tuple(history)[-max_history_messages:] if max_history_messages else ()
    return ChatRequest(
        system=system,
        messages=(*recent, ChatMessage(role="user", content=question)),
        passages=tuple(passages),
        purpose="answer",
        max_tokens=max_tokens,
        temperature=0.0,
    )


def condense_request(history: Sequence[ChatMessage], question: str) -> ChatRequest:
    return ChatRequest(
        system=CONDENSE_SYSTEM_PROMPT,
        messages=(*history[-DEFAULT_HISTORY_MESSAGES:], ChatMessage(role="user", content=question)),
        purpose="condense",
        max_tokens=200,
        temperature=0.0,
    )


def condense_question(model: ChatModel, history: Sequence[ChatMessage], question: str) -> str:
    """The follow-up ``question`` rewritten to stand alone; unchanged (and no model call) without history."""
    if not any(message.role == "user" for message in history):
        return question
    rewritten = model.generate(condense_request(history, question)).text
    return _first_question_line(rewritten) or question


def _first_question_line(text: str) -> str:
    for line in text.strip().splitlines():
        label, _, rest = line.partition(":")
        if rest and label.strip().lower() in {"standalone question", "question"}:
            line = rest
        line = line.strip().strip("\"'`").strip()
        if line:
            return line
    return ""


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

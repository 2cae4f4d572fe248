"""Grounded-answer requests, provider-agnostic: the system prompt, numbered passages, history, question.

Services build requests here (`answer_request`, `condense_question`); chat adapters render any request
with `stratus.ai.prompts.render_prompt`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from stratus.ai.ports import ChatModel
from stratus.ai.types import ChatMessage, ChatRequest, Passage

__all__ = [
    "CONDENSE_SYSTEM_PROMPT",
    "GROUNDED_SYSTEM_PROMPT",
    "answer_request",
    "condense_question",
    "condense_request",
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

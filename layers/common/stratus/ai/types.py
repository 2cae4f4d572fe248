"""The values that cross the model ports: requests, passages, results, usage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "assistant"]
Purpose = Literal["answer", "condense", "chat"]
Provider = Literal["bedrock", "openai", "offline"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChatMessage(_Value):
    role: Role
    content: str


class Passage(_Value):
    """A retrieved chunk offered to the model as evidence; ``citation_id`` is how answers cite it."""

    citation_id: int = Field(ge=1, description="the [n] an answer uses to cite this passage")
    document_id: str
    page: int | None = None
    chunk_id: str
    text: str
    score: float = 0.0


class ChatRequest(_Value):
    system: str = ""
    messages: tuple[ChatMessage, ...] = Field(min_length=1, description="the last one is the user's turn")
    passages: tuple[Passage, ...] = ()
    purpose: Purpose = "chat"
    max_tokens: int = Field(default=1024, ge=1, le=32_000)
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)

    @property
    def question(self) -> str:
        """The latest user message."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return self.messages[-1].content


class Usage(_Value):
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cost_usd: float = Field(ge=0.0)
    model: str
    provider: Provider
    offline: bool = Field(description="true when no real language model produced the text")
    latency_ms: float = Field(ge=0.0)


class ChatResult(_Value):
    text: str
    citations: tuple[int, ...] = Field(default=(), description="citation ids of the passages the text cites")
    usage: Usage


class ChatChunk(_Value):
    """One streamed piece of an answer; the last chunk of a stream has ``usage`` and ``citations``."""

    text: str
    citations: tuple[int, ...] = ()
    usage: Usage | None = None

    @property
    def final(self) -> bool:
        return self.usage is not None

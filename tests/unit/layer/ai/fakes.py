"""Fakes of the providers' clients, shaped like the real ones, to inject through adapter constructors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from botocore.exceptions import ClientError
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage


def bedrock_error(code: str, status: int, retry_after: str | None = None, message: str = "") -> ClientError:
    headers = {"retry-after": retry_after} if retry_after else {}
    response: Any = {
        "Error": {"Code": code, "Message": message or f"{code} from the fake"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
    }
    return ClientError(response, "Converse")


def openai_error(
    kind: type[openai.APIStatusError], status: int, *, code: str | None = None, headers: dict[str, str] | None = None
) -> openai.APIStatusError:
    request = httpx2.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx2.Response(status, headers=headers or {}, request=request)
    body = {"code": code, "message": "from the fake", "type": "error"} if code else None
    return kind("from the fake", response=response, body=body)


@dataclass
class Reply:
    text: str
    input_tokens: int = 120
    output_tokens: int = 30
    blocks: bool = False  # Bedrock Converse returns content blocks, OpenAI a plain string
    fail_after_words: int | None = None
    error: BaseException | None = None


@dataclass
class ScriptedChatModel:
    """A LangChain-shaped chat model: each call plays the next step, an error to raise or a `Reply`."""

    steps: list[BaseException | Reply]
    calls: list[tuple[list[BaseMessage], dict[str, Any]]] = field(default_factory=list)

    def _next(self, messages: list[BaseMessage], options: dict[str, Any]) -> Reply:
        self.calls.append((messages, options))
        step = self.steps.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    def invoke(self, messages: list[BaseMessage], **options: Any) -> AIMessage:
        reply = self._next(messages, options)
        content: Any = [{"type": "text", "text": reply.text}] if reply.blocks else reply.text
        usage: Any = {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }
        return AIMessage(content=content, usage_metadata=usage)

    def stream(self, messages: list[BaseMessage], **options: Any) -> Iterator[AIMessageChunk]:
        reply = self._next(messages, options)
        words = reply.text.split(" ")
        for index, word in enumerate(words):
            if reply.fail_after_words is not None and index == reply.fail_after_words:
                assert reply.error is not None
                raise reply.error
            yield AIMessageChunk(content=word if index == len(words) - 1 else word + " ")
        usage: Any = {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }
        yield AIMessageChunk(content="", usage_metadata=usage)


@dataclass
class FakeBedrockRuntime:
    """``invoke_model`` of Titan Text Embeddings v2: fails with the queued errors, then embeds."""

    dimensions: int
    errors: list[BaseException] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def invoke_model(self, *, modelId: str, body: str, contentType: str, accept: str) -> dict[str, Any]:
        if self.errors:
            raise self.errors.pop(0)
        request = json.loads(body)
        self.bodies.append(request)
        seed = sum(map(ord, request["inputText"]))
        vector = [float((seed * (i + 1)) % 17 - 8) for i in range(request["dimensions"])]
        return {"body": io.BytesIO(json.dumps({"embedding": vector, "inputTextTokenCount": 3}).encode())}


@dataclass
class _Embedding:
    index: int
    embedding: list[float]


@dataclass
class _EmbeddingResponse:
    data: list[_Embedding]


@dataclass
class FakeOpenAIEmbeddings:
    dimensions: int
    errors: list[BaseException] = field(default_factory=list)
    batches: list[Sequence[str]] = field(default_factory=list)

    def create(self, *, model: str, input: list[str], **options: Any) -> _EmbeddingResponse:
        if self.errors:
            raise self.errors.pop(0)
        self.batches.append(input)
        size = options.get("dimensions", self.dimensions)
        items = [_Embedding(i, [float(len(text) + j) for j in range(size)]) for i, text in enumerate(input)]
        return _EmbeddingResponse(list(reversed(items)))  # the API does not promise order


@dataclass
class FakeOpenAIClient:
    embeddings: FakeOpenAIEmbeddings

"""One adapter for any LangChain chat model (ChatBedrockConverse, ChatOpenAI, or a fake in tests).

It renders the request (`stratus.ai.prompts.render_prompt`), retries transient failures with the project's
`RetryPolicy`, and maps every failure through the provider's ``translate`` function to a domain error.
A stream is retried only until its first chunk arrives: after that, a retry would repeat text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from stratus.ai.prompts import cited_ids, render_prompt
from stratus.ai.tokens import count_tokens
from stratus.ai.types import ChatChunk, ChatRequest, ChatResult, Provider, Usage
from stratus.ai.usage import make_usage
from stratus.errors import StratusError
from stratus.retry import RetryPolicy

Translate = Callable[[BaseException, str], StratusError]


class LangChainChatModel:
    def __init__(
        self,
        llm: Any,
        *,
        provider: Provider,
        model_id: str,
        translate: Translate,
        policy: RetryPolicy,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._llm = llm
        self._provider: Provider = provider
        self._model_id = model_id
        self._translate = translate
        self._policy = policy
        self._clock = clock

    @property
    def provider(self) -> Provider:
        return self._provider

    @property
    def model_id(self) -> str:
        return self._model_id

    def generate(self, request: ChatRequest) -> ChatResult:
        started = self._clock()
        messages, options = self._messages(request), self._options(request)
        message = self._call("generate", lambda: self._llm.invoke(messages, **options))
        text = _text_of(message)
        usage = self._usage(request, text, getattr(message, "usage_metadata", None), started)
        return ChatResult(text=text, citations=cited_ids(text, request.passages), usage=usage)

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        started = self._clock()
        messages, options = self._messages(request), self._options(request)

        def open_stream() -> tuple[Iterator[Any], list[Any]]:
            iterator = iter(self._llm.stream(messages, **options))
            first = next(iterator, None)
            return iterator, [] if first is None else [first]

        iterator, head = self._call("stream", open_stream)
        chunks = chain(head, iterator)
        pieces: list[str] = []
        reported: dict[str, int] = {}
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except Exception as error:
                raise self._translate(error, "stream") from error
            for key, value in (getattr(chunk, "usage_metadata", None) or {}).items():
                if key in ("input_tokens", "output_tokens") and isinstance(value, int):
                    reported[key] = reported.get(key, 0) + value
            text = _text_of(chunk)
            if text:
                pieces.append(text)
                yield ChatChunk(text=text)
        full = "".join(pieces)
        usage = self._usage(request, full, reported or None, started)
        yield ChatChunk(text="", citations=cited_ids(full, request.passages), usage=usage)

    def _call(self, operation: str, call: Callable[[], Any]) -> Any:
        def attempt() -> Any:
            try:
                return call()
            except StratusError:
                raise
            except Exception as error:
                raise self._translate(error, operation) from error

        return self._policy.call(f"{self._provider} {operation}", attempt)

    @staticmethod
    def _messages(request: ChatRequest) -> list[Any]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        system, turns = render_prompt(request)
        messages: list[Any] = [SystemMessage(content=system)] if system else []
        for turn in turns:
            role = HumanMessage if turn.role == "user" else AIMessage
            messages.append(role(content=turn.content))
        return messages

    @staticmethod
    def _options(request: ChatRequest) -> dict[str, Any]:
        return {"max_tokens": request.max_tokens, "temperature": request.temperature}

    def _usage(self, request: ChatRequest, text: str, reported: Any, started: float) -> Usage:
        latency_ms = (self._clock() - started) * 1000
        if reported and reported.get("input_tokens") is not None:
            input_tokens, output_tokens = int(reported["input_tokens"]), int(reported.get("output_tokens") or 0)
        else:  # e.g. an OpenAI-compatible server that reports no usage: estimate offline
            system, turns = render_prompt(request)
            prompt = "\n".join([system, *(turn.content for turn in turns)])
            input_tokens, output_tokens = count_tokens(prompt, self._model_id), count_tokens(text, self._model_id)
        return make_usage(
            provider=self._provider,
            model=self._model_id,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
        )


def _text_of(message: Any) -> str:
    """The text of a LangChain message or chunk (Bedrock returns content blocks, OpenAI a string)."""
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(message, "content", "")
    if isinstance(content, str):
        return content
    return "".join(
        block.get("text", "") for block in content if isinstance(block, dict) and block.get("type") == "text"
    )

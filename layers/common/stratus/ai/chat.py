"""The chat-model factory (the port is ``stratus.ai.ports.ChatModel``); adapters are imported on first use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from stratus.ai.ports import ChatModel
from stratus.ai.settings import ai_settings_of
from stratus.ai.types import ChatChunk, ChatRequest, ChatResult, Provider
from stratus.ai.usage import record_usage
from stratus.config import Settings, get_settings
from stratus.config.ai import AiSettings

__all__ = ["MeteredChatModel", "get_chat_model", "reset_chat_models"]


class MeteredChatModel:
    """Records the usage of every call of any adapter (tokens, cost, latency as EMF metrics)."""

    def __init__(self, inner: ChatModel) -> None:
        self._inner = inner

    @property
    def provider(self) -> Provider:
        return self._inner.provider

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def inner(self) -> ChatModel:
        return self._inner

    def generate(self, request: ChatRequest) -> ChatResult:
        result = self._inner.generate(request)
        record_usage(result.usage, request.purpose)
        return result

    def stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        for chunk in self._inner.stream(request):
            if chunk.usage is not None:
                record_usage(chunk.usage, request.purpose)
            yield chunk


def _offline(settings: AiSettings) -> ChatModel:
    from stratus.ai.providers.offline import OfflineChatModel

    return OfflineChatModel(latency_s=settings.simulated_model_latency_s)


def _bedrock(settings: AiSettings) -> ChatModel:
    from stratus.ai.providers.bedrock import BedrockChatModel

    return BedrockChatModel.from_settings(settings)


def _openai(settings: AiSettings) -> ChatModel:
    from stratus.ai.providers.openai import OpenAIChatModel

    return OpenAIChatModel.from_settings(settings)


_BUILDERS: dict[str, Callable[[AiSettings], ChatModel]] = {
    "offline": _offline,
    "bedrock": _bedrock,
    "openai": _openai,
}


@lru_cache(maxsize=8)
def _chat_model(settings: AiSettings) -> ChatModel:
    return MeteredChatModel(_BUILDERS[settings.model_provider](settings))


def get_chat_model(settings: Settings | AiSettings | None = None) -> ChatModel:
    """The configured chat model, built once per container and configuration."""
    return _chat_model(ai_settings_of(settings or get_settings()))


def reset_chat_models() -> None:
    _chat_model.cache_clear()

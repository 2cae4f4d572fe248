"""OpenAI, or any OpenAI-compatible server (Ollama, vLLM) via ``OPENAI_BASE_URL``.

Chat goes through langchain-openai ``ChatOpenAI``, embeddings through the openai SDK. The SDKs' own
retries are off (``max_retries=0``): `stratus.retry` is the one retry policy. Errors are classified by
openai exception type, HTTP status and error code, never by message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import openai
from pydantic import SecretStr

from stratus.ai.providers.batching import batches
from stratus.ai.providers.langchain import LangChainChatModel
from stratus.ai.settings import model_retry_policy
from stratus.config.ai import OPENAI_EMBEDDING_MODEL_ID, AiSettings
from stratus.errors import StratusError, UpstreamFailed, UpstreamUnavailable
from stratus.observability import logger
from stratus.retry import RetryPolicy, parse_retry_after

__all__ = ["OpenAIChatModel", "OpenAIEmbedder", "translate_openai_error"]

# A compatible server without auth (Ollama, vLLM) still needs a non-empty key for the SDK.
_NO_KEY: Final = "unused"
_NATIVE_DIMENSIONS: Final = {OPENAI_EMBEDDING_MODEL_ID: 1536, "text-embedding-3-large": 3072}
# 429 with this code means the account is out of credit: waiting does not help.
_QUOTA_EXHAUSTED: Final = "insufficient_quota"


def translate_openai_error(error: BaseException, operation: str) -> StratusError:
    """A domain error for a failed OpenAI call: 503 when retrying may help, 502 otherwise."""
    logger.warning("openai call failed", extra={"operation": operation, "error": repr(error)})
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return UpstreamUnavailable(
            f"OpenAI did not answer the {operation} call in time ({type(error).__name__})", provider="openai"
        )
    if isinstance(error, openai.APIStatusError):
        status, code = error.status_code, getattr(error, "code", None)
        extensions: dict[str, Any] = {"provider": "openai", "provider_status": status}
        if code:
            extensions["code"] = str(code)
        if status == 429 and code != _QUOTA_EXHAUSTED:
            headers = error.response.headers
            retry_after = parse_retry_after(headers.get("retry-after"))
            if retry_after is None and headers.get("retry-after-ms"):
                retry_after = (parse_retry_after(headers.get("retry-after-ms")) or 0.0) / 1000
            if retry_after is not None:
                extensions["retry_after_s"] = retry_after
            return UpstreamUnavailable(f"OpenAI throttled the {operation} call (HTTP 429)", **extensions)
        if status >= 500 or status == 408:
            return UpstreamUnavailable(f"OpenAI could not serve the {operation} call (HTTP {status})", **extensions)
        return UpstreamFailed(f"OpenAI rejected the {operation} call (HTTP {status})", **extensions)
    return UpstreamFailed(f"OpenAI {operation} failed ({type(error).__name__})", provider="openai")


def _api_key(settings: AiSettings) -> str:
    return settings.openai_api_key.get_secret_value() if settings.openai_api_key else _NO_KEY


class OpenAIChatModel(LangChainChatModel):
    def __init__(self, llm: Any, *, model_id: str, policy: RetryPolicy) -> None:
        super().__init__(llm, provider="openai", model_id=model_id, translate=translate_openai_error, policy=policy)

    @classmethod
    def from_settings(cls, settings: AiSettings) -> OpenAIChatModel:
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(
            model_name=settings.openai_chat_model,
            openai_api_key=SecretStr(_api_key(settings)),
            openai_api_base=settings.openai_base_url,
            request_timeout=settings.model_timeout_s,
            max_retries=0,
            stream_usage=True,
            max_tokens=settings.model_max_tokens,
            temperature=0.0,
        )
        return cls(llm, model_id=settings.openai_chat_model, policy=model_retry_policy(settings))


class OpenAIEmbedder:
    """The embeddings endpoint, ``batch_size`` texts per request."""

    def __init__(
        self,
        client: Any,
        *,
        policy: RetryPolicy,
        model_id: str,
        dimensions: int | None = None,
        batch_size: int = 64,
    ) -> None:
        self._client = client
        self._policy = policy
        self._model_id = model_id
        self._requested_dimensions = dimensions
        self._dimensions = dimensions or _NATIVE_DIMENSIONS.get(model_id)
        self._batch_size = batch_size

    @classmethod
    def from_settings(cls, settings: AiSettings, *, client: Any = None) -> OpenAIEmbedder:
        client = client or openai.OpenAI(
            api_key=_api_key(settings),
            base_url=settings.openai_base_url,
            timeout=settings.model_timeout_s,
            max_retries=0,
        )
        return cls(
            client,
            policy=model_retry_policy(settings),
            model_id=settings.resolved_embedding_model_id,
            dimensions=settings.embedding_dimensions,
            batch_size=settings.embedding_batch_size,
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimensions(self) -> int:
        """The vector size; for a model this module does not know (e.g. on Ollama), one probe call finds it."""
        if self._dimensions is None:
            self._dimensions = int(self.embed(["dimensions probe"]).shape[1])
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows = [vector for batch in batches(texts, self._batch_size) for vector in self._embed_batch(batch)]
        if not rows:
            return np.zeros((0, self._dimensions or 0), dtype=np.float32)
        output = np.asarray(rows, dtype=np.float32)
        self._dimensions = output.shape[1]
        norms = np.linalg.norm(output, axis=1, keepdims=True)
        np.divide(output, norms, out=output, where=norms > 0)
        return output

    def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        options: dict[str, Any] = {"model": self._model_id, "input": list(texts)}
        if self._requested_dimensions is not None:
            options["dimensions"] = self._requested_dimensions

        def attempt() -> list[list[float]]:
            try:
                response = self._client.embeddings.create(**options)
            except StratusError:
                raise
            except Exception as error:
                raise translate_openai_error(error, "embed") from error
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(texts):
                detail = f"OpenAI returned {len(data)} embeddings for {len(texts)} texts"
                raise UpstreamFailed(detail, provider="openai")
            return [list(item.embedding) for item in data]

        return self._policy.call("openai embed", attempt)

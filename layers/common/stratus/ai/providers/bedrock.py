"""Amazon Bedrock: chat through langchain-aws ``ChatBedrockConverse``, embeddings with Titan Text v2.

Both use the ``bedrock-runtime`` client of `stratus.aws` (region, endpoint and timeouts from settings).
Errors are classified by botocore exception type and Bedrock error code, never by message text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from stratus import aws
from stratus.ai.providers.langchain import LangChainChatModel
from stratus.ai.settings import model_retry_policy
from stratus.config.ai import BEDROCK_EMBEDDING_MODEL_ID, AiSettings
from stratus.errors import StratusError, UpstreamFailed, UpstreamUnavailable
from stratus.observability import logger
from stratus.retry import RetryPolicy, parse_retry_after

__all__ = ["BedrockChatModel", "BedrockEmbedder", "translate_bedrock_error"]

THROTTLING_CODES: Final = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException", "throttlingException"}
)
TRANSIENT_CODES: Final = frozenset(
    {
        "ServiceUnavailableException",
        "serviceUnavailableException",
        "InternalServerException",
        "internalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "modelStreamErrorException",
        "ModelStreamErrorException",
    }
)


def translate_bedrock_error(error: BaseException, operation: str) -> StratusError:
    """A domain error for a failed Bedrock call: 503 when retrying may help, 502 otherwise.

    The detail names the error code, never the provider's message (it may hold account ids or ARNs);
    the message goes to the log.
    """
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        metadata = error.response.get("ResponseMetadata", {})
        status = metadata.get("HTTPStatusCode")
        logger.warning("bedrock call failed", extra={"operation": operation, "code": code, "error": str(error)})
        if code in THROTTLING_CODES or status == 429:
            retry_after = parse_retry_after(metadata.get("HTTPHeaders", {}).get("retry-after"))
            extensions: dict[str, Any] = {"provider": "bedrock", "code": code}
            if retry_after is not None:
                extensions["retry_after_s"] = retry_after
            return UpstreamUnavailable(f"Bedrock throttled the {operation} call ({code})", **extensions)
        if code in TRANSIENT_CODES or (isinstance(status, int) and status >= 500):
            detail = f"Bedrock could not serve the {operation} call ({code})"
            return UpstreamUnavailable(detail, provider="bedrock", code=code)
        return UpstreamFailed(f"Bedrock rejected the {operation} call ({code})", provider="bedrock", code=code)
    if isinstance(error, HTTPClientError | BotoConnectionError):
        logger.warning("bedrock unreachable", extra={"operation": operation, "error": repr(error)})
        return UpstreamUnavailable(
            f"Bedrock did not answer the {operation} call in time ({type(error).__name__})", provider="bedrock"
        )
    kind = "client" if isinstance(error, BotoCoreError) else "response"
    logger.warning("bedrock call failed", extra={"operation": operation, "error": repr(error)})
    detail = f"Bedrock {operation} failed with a {kind} error ({type(error).__name__})"
    return UpstreamFailed(detail, provider="bedrock")


class BedrockChatModel(LangChainChatModel):
    def __init__(self, llm: Any, *, model_id: str, policy: RetryPolicy) -> None:
        super().__init__(llm, provider="bedrock", model_id=model_id, translate=translate_bedrock_error, policy=policy)

    @classmethod
    def from_settings(cls, settings: AiSettings, *, client: Any = None) -> BedrockChatModel:
        from langchain_aws import ChatBedrockConverse

        llm = ChatBedrockConverse(
            model_id=settings.chat_model_id,
            # Our RetryPolicy is the one retry layer; botocore makes a single attempt per call.
            client=client or aws.client("bedrock-runtime", read_timeout_s=settings.model_timeout_s, max_attempts=1),
            bedrock_client=aws.client("bedrock", max_attempts=1),
            max_tokens=settings.model_max_tokens,
            temperature=0.0,
        )
        return cls(llm, model_id=settings.chat_model_id, policy=model_retry_policy(settings))


class BedrockEmbedder:
    """Titan Text Embeddings v2: one text per InvokeModel call, calls run in a small thread pool."""

    def __init__(
        self,
        client: Any,
        *,
        policy: RetryPolicy,
        model_id: str = BEDROCK_EMBEDDING_MODEL_ID,
        dimensions: int = 1024,
        concurrency: int = 4,
    ) -> None:
        self._client = client
        self._policy = policy
        self._model_id = model_id
        self._dimensions = dimensions
        self._concurrency = concurrency

    @classmethod
    def from_settings(cls, settings: AiSettings, *, client: Any = None) -> BedrockEmbedder:
        return cls(
            client or aws.client("bedrock-runtime", read_timeout_s=settings.model_timeout_s, max_attempts=1),
            policy=model_retry_policy(settings),
            model_id=settings.resolved_embedding_model_id,
            dimensions=settings.embedding_dimensions or 1024,
            concurrency=settings.embedding_concurrency,
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        output = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        if not texts:
            return output
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(texts))) as pool:
            for row, vector in enumerate(pool.map(self._embed_one, texts)):
                output[row] = vector
        norms = np.linalg.norm(output, axis=1, keepdims=True)
        np.divide(output, norms, out=output, where=norms > 0)
        return output

    def _embed_one(self, text: str) -> list[float]:
        body = json.dumps({"inputText": text, "dimensions": self._dimensions, "normalize": True})

        def attempt() -> list[float]:
            try:
                response = self._client.invoke_model(
                    modelId=self._model_id, body=body, contentType="application/json", accept="application/json"
                )
                payload = json.loads(response["body"].read())
            except StratusError:
                raise
            except Exception as error:
                raise translate_bedrock_error(error, "embed") from error
            vector = payload.get("embedding")
            if not isinstance(vector, list) or len(vector) != self._dimensions:
                raise UpstreamFailed(
                    f"Bedrock returned an embedding of an unexpected shape for {self._model_id}", provider="bedrock"
                )
            return vector

        return self._policy.call("bedrock embed", attempt)


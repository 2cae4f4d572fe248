"""Settings of `stratus.ai`, and the one place that names the model ids the project uses."""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import Field, SecretStr, model_validator

from stratus.config.base import ConfigBase

BEDROCK_CHAT_MODEL_ID: Final = "anthropic.claude-3-5-haiku-20241022-v1:0"
BEDROCK_EMBEDDING_MODEL_ID: Final = "amazon.titan-embed-text-v2:0"
OPENAI_CHAT_MODEL_ID: Final = "gpt-4o-mini"
OPENAI_EMBEDDING_MODEL_ID: Final = "text-embedding-3-small"
LOCAL_EMBEDDING_MODEL_ID: Final = "sentence-transformers/all-MiniLM-L6-v2"
OFFLINE_CHAT_MODEL_ID: Final = "stratus-offline-extractive"
HASH_EMBEDDING_MODEL_ID: Final = "stratus-feature-hash"

LOCAL_EMBEDDING_DIMENSIONS: Final = 384
BEDROCK_EMBEDDING_DIMENSIONS: Final = (256, 512, 1024)

ModelProvider = Literal["bedrock", "openai", "offline"]
EmbeddingProvider = Literal["bedrock", "openai", "local", "hash"]

# layers/common/stratus/config/ai.py -> the repository root; only meaningful in a checkout.
_REPO_ROOT = Path(__file__).resolve().parents[4]


class AiSettings(ConfigBase):
    """Settings of `stratus.ai`: which chat and embedding providers, their models, timeouts and retries."""

    model_provider: ModelProvider = Field(
        default="offline", description="offline composes extractive answers from the passages, no network"
    )
    chat_model_id: str = Field(default=BEDROCK_CHAT_MODEL_ID, description="Bedrock model or inference profile id")
    openai_base_url: str | None = Field(
        default=None, description="OpenAI-compatible server (Ollama, vLLM); unset for api.openai.com"
    )
    openai_api_key: SecretStr | None = None
    openai_chat_model: str = OPENAI_CHAT_MODEL_ID

    embedding_provider: EmbeddingProvider = "local"
    embedding_model_id: str | None = Field(
        default=None, description="unset: the provider's default (Titan v2, text-embedding-3-small, MiniLM)"
    )
    embedding_dimensions: int | None = Field(
        default=None, gt=0, le=4096, description="unset: the model's native size; hash defaults to 256"
    )
    embedding_batch_size: int = Field(default=32, ge=1, le=256)
    embedding_concurrency: int = Field(default=4, ge=1, le=16, description="parallel Bedrock embedding calls")
    local_model_dir: Path = Field(
        default=_REPO_ROOT / ".local" / "models" / "all-MiniLM-L6-v2",
        description="directory holding model.onnx and tokenizer.json (make embedding-model)",
    )
    local_model_threads: int = Field(default=2, ge=1, le=16, description="onnxruntime intra-op threads")

    model_timeout_s: float = Field(default=30.0, gt=0, le=900, description="per-attempt client timeout")
    model_max_attempts: int = Field(default=3, ge=1, le=10)
    model_backoff_base_s: float = Field(default=0.5, ge=0, le=30)
    model_max_tokens: int = Field(default=1024, ge=1, le=32_000)
    simulated_model_latency_s: float = Field(
        default=0.0, ge=0, le=60, description="added to every offline model call, for benchmarks"
    )

    @model_validator(mode="after")
    def _providers_are_usable(self) -> AiSettings:
        uses_openai = self.model_provider == "openai" or self.embedding_provider == "openai"
        if uses_openai and self.openai_api_key is None and self.openai_base_url is None:
            raise ValueError(
                "the openai provider needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local OpenAI-compatible server"
            )
        dims = self.embedding_dimensions
        if dims is not None:
            if self.embedding_provider == "local" and dims != LOCAL_EMBEDDING_DIMENSIONS:
                raise ValueError(f"the local embedding model has {LOCAL_EMBEDDING_DIMENSIONS} dimensions, not {dims}")
            if self.embedding_provider == "bedrock" and dims not in BEDROCK_EMBEDDING_DIMENSIONS:
                raise ValueError(f"Titan Text Embeddings v2 supports {BEDROCK_EMBEDDING_DIMENSIONS} dimensions")
        return self

    @property
    def resolved_chat_model_id(self) -> str:
        """The model id the configured chat provider calls."""
        return {
            "bedrock": self.chat_model_id,
            "openai": self.openai_chat_model,
            "offline": OFFLINE_CHAT_MODEL_ID,
        }[self.model_provider]

    @property
    def resolved_embedding_model_id(self) -> str:
        """The embedding model id, defaulted per provider."""
        if self.embedding_model_id:
            return self.embedding_model_id
        return {
            "bedrock": BEDROCK_EMBEDDING_MODEL_ID,
            "openai": OPENAI_EMBEDDING_MODEL_ID,
            "local": LOCAL_EMBEDDING_MODEL_ID,
            "hash": HASH_EMBEDDING_MODEL_ID,
        }[self.embedding_provider]

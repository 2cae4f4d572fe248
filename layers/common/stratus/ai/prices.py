"""The one price table: USD per 1,000 tokens for every model id the project references.

List prices (on-demand, us-east-1) as of the model ids' release; check them before relying on cost
figures for billing. Bedrock cross-region inference profiles ("us.", "eu.", "apac." prefixes) cost
the same as the model they route to. Offline and local models cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from stratus.config.ai import (
    BEDROCK_CHAT_MODEL_ID,
    BEDROCK_EMBEDDING_MODEL_ID,
    HASH_EMBEDDING_MODEL_ID,
    LOCAL_EMBEDDING_MODEL_ID,
    OFFLINE_CHAT_MODEL_ID,
    OPENAI_CHAT_MODEL_ID,
    OPENAI_EMBEDDING_MODEL_ID,
)

__all__ = ["PRICES", "ModelPrice", "cost_usd", "price_of"]


@dataclass(frozen=True)
class ModelPrice:
    input_per_1k: float
    output_per_1k: float = 0.0


FREE: Final = ModelPrice(0.0, 0.0)

PRICES: Final[dict[str, ModelPrice]] = {
    BEDROCK_CHAT_MODEL_ID: ModelPrice(0.0008, 0.004),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": ModelPrice(0.003, 0.015),
    "amazon.nova-micro-v1:0": ModelPrice(0.000035, 0.00014),
    "amazon.nova-lite-v1:0": ModelPrice(0.00006, 0.00024),
    "amazon.nova-pro-v1:0": ModelPrice(0.0008, 0.0032),
    BEDROCK_EMBEDDING_MODEL_ID: ModelPrice(0.00002),
    OPENAI_CHAT_MODEL_ID: ModelPrice(0.00015, 0.0006),
    "gpt-4o": ModelPrice(0.0025, 0.01),
    OPENAI_EMBEDDING_MODEL_ID: ModelPrice(0.00002),
    "text-embedding-3-large": ModelPrice(0.00013),
    OFFLINE_CHAT_MODEL_ID: FREE,
    LOCAL_EMBEDDING_MODEL_ID: FREE,
    HASH_EMBEDDING_MODEL_ID: FREE,
}

_INFERENCE_PROFILE_PREFIXES: Final = ("us.", "eu.", "apac.", "us-gov.", "global.")


def price_of(model_id: str) -> ModelPrice | None:
    """The price of ``model_id``, or None for a model this table does not know (e.g. one served by Ollama)."""
    if model_id in PRICES:
        return PRICES[model_id]
    for prefix in _INFERENCE_PROFILE_PREFIXES:
        if model_id.startswith(prefix) and model_id.removeprefix(prefix) in PRICES:
            return PRICES[model_id.removeprefix(prefix)]
    return None


def cost_usd(model_id: str, input_tokens: int, output_tokens: int = 0) -> float:
    """What the call cost; 0 for unknown models (the usage log says which model it was)."""
    price = price_of(model_id) or FREE
    return input_tokens / 1000 * price.input_per_1k + output_tokens / 1000 * price.output_per_1k

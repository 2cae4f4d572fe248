"""Model layer shared by every service: chat models, embeddings, token counts, prices, usage.

Ports are Protocols; adapters live in ``stratus.ai.providers`` and are imported by the factories on
first use, so ``import stratus.ai`` stays free of langchain, openai, numpy and onnxruntime.
"""

from stratus.ai.embeddings import Embedder, get_embedder, reset_embedders
from stratus.ai.tokens import count_tokens
from stratus.ai.types import ChatChunk, ChatMessage, ChatRequest, ChatResult, Passage, Usage

__all__ = [
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatResult",
    "Embedder",
    "Passage",
    "Usage",
    "count_tokens",
    "get_embedder",
    "reset_embedders",
]

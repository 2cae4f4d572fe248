"""Model layer shared by every service: chat models, embeddings, grounded prompts, tokens, prices, usage.

Ports are Protocols (`ChatModel`, `Embedder`); adapters live in ``stratus.ai.providers`` and the
factories import them on first use, so ``import stratus.ai`` loads no langchain, openai, numpy or
onnxruntime.
"""

from stratus.ai.chat import ChatModel, get_chat_model, reset_chat_models
from stratus.ai.embeddings import Embedder, get_embedder, reset_embedders
from stratus.ai.rag import answer_request, condense_question
from stratus.ai.tokens import count_tokens
from stratus.ai.types import ChatChunk, ChatMessage, ChatRequest, ChatResult, Passage, Usage

__all__ = [
    "ChatChunk",
    "ChatMessage",
    "ChatModel",
    "ChatRequest",
    "ChatResult",
    "Embedder",
    "Passage",
    "Usage",
    "answer_request",
    "condense_question",
    "count_tokens",
    "get_chat_model",
    "get_embedder",
    "reset_chat_models",
    "reset_embedders",
]

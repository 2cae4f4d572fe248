"""Model layer shared by every service: chat models, embeddings, grounded prompts, tokens, prices, usage.

Layout (imports only point down this list, so there is no cycle):

- ``types``, ``text``, ``prices``, ``tokens``, ``usage``, ``settings``: values and helpers.
- ``ports``: the Protocols (`ChatModel`, `Embedder`); ``prompts``: rendering a request, citations.
- ``providers``: the adapters; they import only the modules above.
- ``chat``, ``embeddings``: the factories, which import an adapter on first use; ``rag``: grounded requests.

So ``import stratus.ai`` loads no langchain, openai, numpy or onnxruntime.
"""

from stratus.ai.chat import get_chat_model, reset_chat_models
from stratus.ai.embeddings import get_embedder, reset_embedders
from stratus.ai.ports import ChatModel, Embedder
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

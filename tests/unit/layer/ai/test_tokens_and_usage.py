"""Offline token counts, the price table, and usage emitted as EMF metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stratus.ai import ChatMessage, ChatRequest, count_tokens, get_chat_model
from stratus.ai.prices import PRICES, cost_usd, price_of
from stratus.config.ai import BEDROCK_CHAT_MODEL_ID, OFFLINE_CHAT_MODEL_ID, AiSettings
from stratus.observability import metrics


def test_token_counts_match_tiktoken_without_network() -> None:
    assert count_tokens("hello world", "gpt-4") == 2  # cl100k_base: [15339, 1917]
    assert count_tokens("hello world", "gpt-4o") == 2  # o200k_base
    assert count_tokens("", "gpt-4o") == 0


def test_models_without_a_tokenizer_are_estimated_with_cl100k() -> None:
    text = "Bedrock models are counted with cl100k as an estimate."
    assert count_tokens(text, BEDROCK_CHAT_MODEL_ID) == count_tokens(text, "gpt-4")


def test_cost_comes_from_the_price_table_including_inference_profiles() -> None:
    price = PRICES[BEDROCK_CHAT_MODEL_ID]
    expected = 2 * price.input_per_1k + 0.5 * price.output_per_1k
    assert cost_usd(BEDROCK_CHAT_MODEL_ID, 2000, 500) == pytest.approx(expected)
    assert price_of(f"us.{BEDROCK_CHAT_MODEL_ID}") == price
    assert cost_usd(OFFLINE_CHAT_MODEL_ID, 10_000, 10_000) == 0.0


def test_an_unknown_model_costs_nothing_rather_than_failing() -> None:
    assert price_of("llama3.1:8b") is None
    assert cost_usd("llama3.1:8b", 1000, 1000) == 0.0


def test_every_model_call_emits_tokens_cost_and_latency_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the metrics namespace of the deployment and the configured (offline) model
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "StratusTest")
    metrics.namespace = None  # as in a fresh container: set from settings on first use
    model = get_chat_model(AiSettings())
    request = ChatRequest(messages=(ChatMessage(role="user", content="Hello there"),), purpose="chat")
    # When the model is called
    result = model.generate(request)
    # Then one EMF document carries the call's tokens, cost and latency
    emf: dict[str, Any] = dict(metrics.serialize_metric_set())
    values = {name: emf[name] for name in ("ModelInputTokens", "ModelOutputTokens", "ModelCostUSD", "ModelLatency")}
    assert values["ModelInputTokens"] == [result.usage.input_tokens]
    assert values["ModelOutputTokens"] == [result.usage.output_tokens]
    assert values["ModelCostUSD"] == [0.0]
    assert values["ModelLatency"] == [pytest.approx(result.usage.latency_ms)]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "StratusTest"
    json.dumps(emf)


def test_streamed_calls_are_metered_once_with_the_final_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "StratusTest")
    model = get_chat_model(AiSettings())
    request = ChatRequest(messages=(ChatMessage(role="user", content="Hello there"),), purpose="chat")
    chunks = list(model.stream(request))
    emf: dict[str, Any] = dict(metrics.serialize_metric_set())
    final = chunks[-1].usage
    assert final is not None
    assert emf["ModelOutputTokens"] == [final.output_tokens]

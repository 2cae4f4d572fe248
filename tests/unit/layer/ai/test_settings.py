"""AiSettings: defaults that work offline, and misconfigurations refused at cold start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from stratus.ai.prices import price_of
from stratus.config.ai import (
    BEDROCK_CHAT_MODEL_ID,
    BEDROCK_EMBEDDING_MODEL_ID,
    LOCAL_EMBEDDING_MODEL_ID,
    OPENAI_EMBEDDING_MODEL_ID,
    AiSettings,
    EmbeddingProvider,
)


@pytest.fixture(autouse=True)
def _no_ai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AiSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_need_no_network_and_no_secret() -> None:
    settings = AiSettings()
    assert settings.model_provider == "offline"
    assert settings.embedding_provider == "local"
    assert settings.resolved_embedding_model_id == LOCAL_EMBEDDING_MODEL_ID
    assert settings.simulated_model_latency_s == 0


def test_the_local_model_dir_defaults_to_the_checkout_and_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert AiSettings().local_model_dir.parts[-3:] == (".local", "models", "all-MiniLM-L6-v2")
    monkeypatch.setenv("LOCAL_MODEL_DIR", str(tmp_path))
    assert AiSettings().local_model_dir == tmp_path


def test_openai_without_key_or_base_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="OPENAI_API_KEY"):
        AiSettings(model_provider="openai")
    with pytest.raises(ValidationError, match="OPENAI_API_KEY"):
        AiSettings(embedding_provider="openai")


def test_an_openai_compatible_server_needs_no_key() -> None:
    settings = AiSettings(model_provider="openai", openai_base_url="http://localhost:11434/v1")
    assert settings.resolved_chat_model_id == settings.openai_chat_model


@pytest.mark.parametrize(
    ("provider", "dimensions"), [("local", 768), ("bedrock", 300)]
)
def test_embedding_sizes_the_model_cannot_produce_are_refused(provider: EmbeddingProvider, dimensions: int) -> None:
    with pytest.raises(ValidationError, match="dimensions"):
        AiSettings(embedding_provider=provider, embedding_dimensions=dimensions)


def test_each_provider_has_a_default_model_and_every_default_has_a_price() -> None:
    assert AiSettings(model_provider="bedrock").resolved_chat_model_id == BEDROCK_CHAT_MODEL_ID
    assert AiSettings(embedding_provider="bedrock").resolved_embedding_model_id == BEDROCK_EMBEDDING_MODEL_ID
    openai = AiSettings(embedding_provider="openai", openai_api_key=SecretStr("sk-test"))
    assert openai.resolved_embedding_model_id == OPENAI_EMBEDDING_MODEL_ID
    defaults = (BEDROCK_CHAT_MODEL_ID, BEDROCK_EMBEDDING_MODEL_ID, openai.openai_chat_model, OPENAI_EMBEDDING_MODEL_ID)
    for model in defaults:
        assert price_of(model) is not None, model


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PROVIDER", "bedrock")
    monkeypatch.setenv("CHAT_MODEL_ID", "us.amazon.nova-lite-v1:0")
    monkeypatch.setenv("MODEL_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("SIMULATED_MODEL_LATENCY_S", "0.25")
    settings = AiSettings()
    assert settings.resolved_chat_model_id == "us.amazon.nova-lite-v1:0"
    assert settings.model_max_attempts == 5
    assert settings.simulated_model_latency_s == 0.25

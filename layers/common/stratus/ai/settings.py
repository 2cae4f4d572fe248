"""The AI slice of the settings (hashable, so factories can cache per configuration) and its retry budget."""

from __future__ import annotations

import time
from collections.abc import Callable

from stratus.config import Settings
from stratus.config.ai import AiSettings
from stratus.retry import RetryPolicy


def ai_settings_of(settings: Settings | AiSettings) -> AiSettings:
    """Only the `AiSettings` fields (the full Settings holds lists, which cannot be hashed)."""
    if type(settings) is AiSettings:
        return settings
    return AiSettings.model_construct(**{name: getattr(settings, name) for name in AiSettings.model_fields})


def model_retry_policy(settings: AiSettings, sleep: Callable[[float], None] = time.sleep) -> RetryPolicy:
    """The retry budget of every model call, chat and embeddings."""
    return RetryPolicy(
        max_attempts=settings.model_max_attempts, base_delay_s=settings.model_backoff_base_s, sleep=sleep
    )

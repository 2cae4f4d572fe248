"""The AI slice of the settings, hashable so factories can cache per configuration."""

from __future__ import annotations

from stratus.config import Settings
from stratus.config.ai import AiSettings


def ai_settings_of(settings: Settings | AiSettings) -> AiSettings:
    """Only the `AiSettings` fields (the full Settings holds lists, which cannot be hashed)."""
    if type(settings) is AiSettings:
        return settings
    return AiSettings.model_construct(**{name: getattr(settings, name) for name in AiSettings.model_fields})

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigBase(BaseSettings):
    """Every settings mixin reads the process environment (case-insensitive) and is immutable."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False, frozen=True)

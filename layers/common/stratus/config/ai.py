from stratus.config.base import ConfigBase


class AiSettings(ConfigBase):
    """Settings of `stratus.ai`."""

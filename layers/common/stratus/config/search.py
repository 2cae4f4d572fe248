from stratus.config.base import ConfigBase


class SearchSettings(ConfigBase):
    """Settings of `stratus.search`."""

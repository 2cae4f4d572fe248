from stratus.config.base import ConfigBase


class IngestSettings(ConfigBase):
    """Settings of `stratus.ingest`."""

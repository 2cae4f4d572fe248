"""The one factory for boto3 clients: endpoint, region, timeouts and retries from settings."""

from __future__ import annotations

from typing import Any

from stratus.cache import per_container
from stratus.config import get_settings


@per_container
def _client(service: str, region: str, endpoint_url: str | None, connect: float, read: float, attempts: int) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect,
        read_timeout=read,
        # total_max_attempts counts the first call; botocore's max_attempts counts retries (1 would mean 2 calls).
        retries={"total_max_attempts": attempts, "mode": "adaptive"},
    )
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=endpoint_url,
        config=config,
    )


def client(
    service: str,
    *,
    endpoint_url: str | None = None,
    read_timeout_s: float | None = None,
    max_attempts: int | None = None,
) -> Any:
    """A cached boto3 client.

    ``endpoint_url`` overrides the embedded-AWS endpoint (e.g. WebSocket callbacks). Callers that run
    their own retry policy (model providers) pass ``max_attempts=1`` so the two layers do not multiply,
    and their own ``read_timeout_s`` (a model answer takes longer than a DynamoDB read).
    """
    settings = get_settings()
    return _client(
        service,
        settings.aws_region,
        endpoint_url or settings.aws_endpoint_url,
        settings.aws_connect_timeout_s,
        read_timeout_s or settings.aws_read_timeout_s,
        max_attempts or settings.aws_max_attempts,
    )

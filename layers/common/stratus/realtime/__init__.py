"""WebSocket connection registry and publishers (API Gateway management API, or the dev server's sockets).

The registry and the publishers load PynamoDB and botocore on first use, not on import: a function that
only validates a topic or builds its app at cold start does not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.realtime.hub import LocalSocketHub, local_hub
from stratus.realtime.topics import validate_topic

if TYPE_CHECKING:
    from stratus.realtime.publisher import (
        ApiGatewayPublisher,
        ConnectionPublisher,
        LocalSocketPublisher,
        TopicPublisher,
    )
    from stratus.realtime.registry import ConnectionRegistry

__all__ = [
    "ApiGatewayPublisher",
    "ConnectionPublisher",
    "ConnectionRegistry",
    "LocalSocketHub",
    "LocalSocketPublisher",
    "TopicPublisher",
    "get_connection_registry",
    "get_topic_publisher",
    "local_hub",
    "validate_topic",
]

_LAZY = {
    "ApiGatewayPublisher": "publisher",
    "ConnectionPublisher": "publisher",
    "LocalSocketPublisher": "publisher",
    "TopicPublisher": "publisher",
    "ConnectionRegistry": "registry",
}


def get_connection_registry() -> ConnectionRegistry:
    """The container's connection registry (built once per container)."""
    from stratus.realtime.registry import get_connection_registry as registry_of_container

    return registry_of_container()


def get_topic_publisher() -> TopicPublisher:
    """The container's topic publisher (built once per container)."""
    from stratus.realtime.publisher import get_topic_publisher as publisher_of_container

    return publisher_of_container()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"stratus.realtime.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

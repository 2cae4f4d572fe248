"""WebSocket connection registry and publishers (API Gateway management API, or the dev server's sockets)."""

from stratus.realtime.hub import LocalSocketHub, local_hub
from stratus.realtime.publisher import (
    ApiGatewayPublisher,
    ConnectionPublisher,
    LocalSocketPublisher,
    TopicPublisher,
    get_topic_publisher,
)
from stratus.realtime.registry import ConnectionRegistry, get_connection_registry

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
]

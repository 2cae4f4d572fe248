"""Publishing to WebSocket connections and topics."""

from __future__ import annotations

import json
from typing import Any, Protocol

from stratus import aws
from stratus.cache import per_container
from stratus.config import Settings, get_settings
from stratus.observability import logger
from stratus.realtime.hub import LocalSocketHub, local_hub
from stratus.realtime.registry import ConnectionRegistry, get_connection_registry


class ConnectionPublisher(Protocol):
    def post(self, connection_id: str, data: bytes) -> bool:
        """Deliver ``data``; False when the connection no longer exists."""
        ...


class ApiGatewayPublisher:
    """``post_to_connection`` through the API Gateway management API; GoneException means the socket left."""

    def __init__(self, callback_url: str, client: Any | None = None) -> None:
        self._client = client or aws.client("apigatewaymanagementapi", endpoint_url=callback_url)

    def post(self, connection_id: str, data: bytes) -> bool:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            return False
        return True


class LocalSocketPublisher:
    def __init__(self, hub: LocalSocketHub) -> None:
        self._hub = hub

    def post(self, connection_id: str, data: bytes) -> bool:
        return self._hub.deliver(connection_id, data)


class TopicPublisher:
    """Fan a message out to every connection subscribed to a tenant's topic; drop connections that are gone."""

    def __init__(self, registry: ConnectionRegistry, publisher: ConnectionPublisher) -> None:
        self._registry = registry
        self._publisher = publisher

    def send(self, tenant_id: str, connection_id: str, message: dict[str, Any]) -> bool:
        delivered = self._publisher.post(connection_id, _encode(message))
        if not delivered:
            self._registry.disconnect(tenant_id, connection_id)
        return delivered

    def publish(self, tenant_id: str, topic: str, message: dict[str, Any]) -> int:
        """Returns how many connections received the message."""
        payload = _encode({"topic": topic, **message})
        delivered = 0
        for connection_id in self._registry.subscribers(tenant_id, topic):
            if self._publisher.post(connection_id, payload):
                delivered += 1
            else:
                logger.info("dropping gone connection", extra={"connection_id": connection_id})
                self._registry.disconnect(tenant_id, connection_id)
        return delivered


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode()


def make_connection_publisher(settings: Settings) -> ConnectionPublisher:
    if settings.realtime_publisher == "local":
        return LocalSocketPublisher(local_hub)
    if not settings.websocket_callback_url:
        raise RuntimeError("WEBSOCKET_CALLBACK_URL is required for the apigateway publisher")
    return ApiGatewayPublisher(settings.websocket_callback_url)


@per_container
def get_topic_publisher() -> TopicPublisher:
    settings = get_settings()
    return TopicPublisher(get_connection_registry(), make_connection_publisher(settings))

"""The realtime service: API Gateway WebSocket routes, its HTTP health route, and scheduled cleanup."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from realtime import websocket
from stratus.realtime import get_connection_registry, get_topic_publisher
from stratus.realtime.registry import validate_topic
from stratus.web import CurrentPrincipal, create_app, make_handler


def _connections_table() -> None:
    get_connection_registry().subscribers("health", "health")


app = create_app(
    "realtime", description="WebSocket connections and topics", health_checks={"connections": _connections_table}
)


class PublishRequest(BaseModel):
    data: dict[str, Any] = Field(description="JSON object delivered to every subscriber of the topic")


class PublishResult(BaseModel):
    topic: str
    delivered: int = Field(description="connections of your tenant that received the message")


@app.post("/realtime/topics/{topic}/messages", status_code=202, response_model=PublishResult)
def publish_message(topic: str, body: PublishRequest, principal: CurrentPrincipal) -> PublishResult:
    """Publish to one of your tenant's topics (services publish progress the same way)."""
    validate_topic(topic)
    delivered = get_topic_publisher().publish(
        principal.tenant_id, topic, {"type": "message", "data": body.data, "sender": principal.user_id}
    )
    return PublishResult(topic=topic, delivered=delivered)


_http_handler = make_handler(app)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_context = event.get("requestContext") or {}
    if "connectionId" in request_context and "routeKey" in request_context:
        return websocket.handle_event(event)
    if event.get("detail-type") == "Scheduled Event":
        return {"purged_connections": get_connection_registry().purge_expired()}
    return _http_handler(event, context)
